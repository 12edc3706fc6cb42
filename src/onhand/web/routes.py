"""HTTP: the admin console (`/dashboard/…`) and the embeddable stock badge (`/badge.js`).

The console is static ES modules that talk to the JSON API with the admin token the user
signs in with, so these routes need no authentication of their own. Nothing is loaded from
outside this server, and the page's Content-Security-Policy says so.

- `/dashboard` and `/dashboard/<view>` answer the one HTML page (deep links: the page
  reads the view from the address);
- `/dashboard/<file>.js|.css`, also in subfolders (`views/stock.js`, `lib/api.js`,
  `vendor/uplot.js`), answer files of `static/` only: the path is checked segment by
  segment and must resolve inside `static/`, so `..` and other tricks are refused.
"""

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ..errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = (Path(__file__).parent / "static").resolve()

# The media type of every kind of file the console may ask for.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,80}")
VIEW = re.compile(r"[a-z][a-z0-9\-]{0,40}")
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
ASSET_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def _page() -> FileResponse:
    return FileResponse(
        STATIC / "dashboard.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


def asset_path(path: str) -> Path | None:
    """The file of `static/` that `path` names, or None when it names none we serve."""
    segments = path.split("/")
    if not all(SEGMENT.fullmatch(s) for s in segments) or ".." in path:
        return None
    file = (STATIC / path).resolve()
    if not file.is_relative_to(STATIC) or file.suffix not in MEDIA_TYPES or not file.is_file():
        return None
    return file


@router.get("/dashboard")
def dashboard() -> FileResponse:
    return _page()


@router.get("/dashboard/{path:path}")
def dashboard_file(path: str) -> FileResponse:
    if VIEW.fullmatch(path):
        return _page()  # a deep link to a view: the page itself picks the view
    file = asset_path(path)
    if file is None:
        raise NotFound(f"The dashboard has no file '{path}'.")
    return FileResponse(file, media_type=MEDIA_TYPES[file.suffix], headers=ASSET_HEADERS)


@router.get("/badge.js")
def badge() -> FileResponse:
    # Storefronts embed it from their pages, so it may be cached for a while.
    return FileResponse(
        STATIC / "badge.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )

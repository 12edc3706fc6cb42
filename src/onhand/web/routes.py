"""HTTP: the admin dashboard (`/dashboard`) and the embeddable stock badge (`/badge.js`).

Both are static files: the dashboard is one page that talks to the JSON API with the admin
token the user pastes in, so these routes need no authentication of their own. Nothing is
loaded from outside this server, and the page's Content-Security-Policy says so.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ..problems import NotFound

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"

# The only files the dashboard may ask for, with their media types.
ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/dashboard")
def dashboard() -> FileResponse:
    return FileResponse(
        STATIC / "dashboard.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


@router.get("/dashboard/{name}")
def dashboard_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"The dashboard has no file '{name}'.")
    return FileResponse(
        STATIC / name,
        media_type=ASSETS[name],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/badge.js")
def badge() -> FileResponse:
    # Storefronts embed it from their pages, so it may be cached for a while.
    return FileResponse(
        STATIC / "badge.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )

"""Assertions shared by the API tests."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, slug: str | None = None) -> dict:
    """The answer is an RFC 9457 problem with this status (and type slug), returned parsed."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert {"type", "title", "status", "detail"} <= doc.keys()
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"]
    if slug:
        assert doc["type"].endswith(f"/{slug}"), doc
    return doc

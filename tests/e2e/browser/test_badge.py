"""The storefront badge on a shop page of another origin: live figures, threshold, CORS."""

from __future__ import annotations

import time


def _snippet(server, sku: str) -> str:
    return (
        f'<!doctype html><p>Product</p><script src="{server.base}/badge.js" data-tenant="demo" '
        f'data-sku="{sku}" data-token="{server.public}" async></script>'
    )


def _wait_text(page, selector: str, text: str, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    shown = ""
    while time.monotonic() < deadline:
        shown = page.inner_text(selector) if page.locator(selector).count() else ""
        if shown == text:
            break
        time.sleep(0.05)
    return shown


def test_the_badge_follows_the_stream_and_the_items_threshold(browser, server, shop_page):
    with server.client() as api:
        r = api.post("/items", json={"sku": "BADGE-1", "name": "Badge", "low_stock_threshold": 20})
        assert r.status_code == 201, r.text
        move = {"type": "receipt", "sku": "BADGE-1", "location": "NORTH-A1", "qty": 15}
        assert api.post("/movements", json=move).status_code == 201
    shop_page["html"] = _snippet(server, "BADGE-1")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"http://127.0.0.1:{server.shop_port}/product")
    # 15 is under the item's own threshold of 20 (the old fixed 5 would say "In stock").
    assert _wait_text(page, ".onhand-badge", "Only 15 left") == "Only 15 left"
    with server.client() as api:
        assert api.post("/movements", json={**move, "qty": 10}).status_code == 201
    # The stream brings the change; nothing polls.
    assert _wait_text(page, ".onhand-badge", "In stock", 2.0) == "In stock"
    assert errors == []
    context.close()


def test_a_page_on_an_origin_not_allowed_is_told_why_in_the_console(browser, server, shop_page):
    shop_page["html"] = _snippet(server, "BOOK-DUNE")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # localhost is another origin than 127.0.0.1, which is the only one allowed.
    page.goto(f"http://localhost:{server.shop_port}/product")
    deadline = time.monotonic() + 20
    while not any("onhand badge" in e for e in errors) and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright deliver the console events
    ours = [e for e in errors if "onhand badge" in e]
    assert ours and "CORS" in ours[0] and f"http://localhost:{server.shop_port}" in ours[0]
    context.close()

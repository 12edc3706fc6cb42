"""The fulfilment views in a real browser: a wave picked on the phone screen, backorders."""

from __future__ import annotations

import uuid


def _wave_of_two(api) -> tuple[str, list[dict]]:
    """Two shipped sales of demo stock, grouped into a wave of their own zone."""
    tag = uuid.uuid4().hex[:6]
    code = f"PICK-{tag}"
    r = api.post("/locations", json={"code": code, "name": code, "zone": f"z-{tag}"})
    assert r.status_code == 201, r.text
    for sku in (f"PA-{tag}", f"PB-{tag}"):
        assert (
            api.post("/items", json={"sku": sku, "name": sku, "kind": "physical"}).status_code
            == 201
        )
        r = api.post("/movements", json={"type": "receipt", "sku": sku, "location": code, "qty": 5})
        assert r.status_code == 201, r.text
    events = [
        {"id": f"{tag}-{n}", "sku": sku, "qty": 2, "location": code, "ship": True}
        for n, sku in enumerate((f"PA-{tag}", f"PB-{tag}"))
    ]
    assert api.post("/consumption", json={"source": "browser", "events": events}).status_code == 200
    r = api.post("/waves", json={"group_by": "zone", "zone": f"z-{tag}"})
    wave = r.json()["waves"][0]
    return wave["id"], wave["lines"]


def test_a_picker_works_through_a_wave_on_the_phone_screen(console, shoot):
    with console.server.client() as api:
        wave_id, lines = _wave_of_two(api)
    console.width("phone")
    console.open("pick", f"wave={wave_id}&picker=ann")
    page = console.page
    first, second = lines
    assert page.inner_text(".pick-bin") == first["location"]
    assert page.inner_text(".pick-sku") == first["sku"]
    shoot(console, "pick-phone")
    # A wrong scan is refused on screen and the same line stays.
    page.fill('input[aria-label="Scan"]', "WRONG-ITEM")
    page.click("button.pick-big[type=submit]")
    page.wait_for_selector(".pick-card .callout.error")
    assert page.inner_text(".pick-sku") == first["sku"]
    page.fill('input[aria-label="Scan"]', first["sku"])
    page.click("button.pick-big[type=submit]")
    page.locator(".pick-sku", has_text=second["sku"]).wait_for()
    page.click('button[aria-label="One less"]')
    page.fill('input[aria-label="Scan"]', second["sku"])
    page.click("button.pick-big[type=submit]")
    page.get_by_text("Wave done").wait_for()
    with console.server.client() as api:
        wave = api.get(f"/waves/{wave_id}").json()
    assert [(ln["picker"], ln["picked"]) for ln in wave["lines"]] == [("ann", 2), ("ann", 1)]
    console.errors[:] = [e for e in console.errors if "409" not in e]  # the refused scan


def test_the_waves_view_shows_progress_per_picker(console):
    with console.server.client() as api:
        wave_id, lines = _wave_of_two(api)
        r = api.post(
            f"/pick-tasks/{lines[0]['id']}/confirm",
            json={"picker": "bob", "scan": lines[0]["sku"], "qty": 2},
        )
        assert r.status_code == 200, r.text
    console.open("waves", f"wave={wave_id}")
    page = console.page
    page.get_by_text("Pick list (walking order)").wait_for()
    assert "bob" in page.inner_text(".view-root")
    assert page.locator("table.data.compact tbody tr").count() == 1

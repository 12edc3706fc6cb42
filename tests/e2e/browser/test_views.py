"""Each view used as a person would, with the figures checked against the API."""

from __future__ import annotations

import re
import time

import httpx


def _figure(page, sku: str) -> str:
    cell = page.locator(f'table.items tr[data-sku="{sku}"] .figure')
    return str(cell.evaluate("el => el.firstChild.textContent"))


def _bins(api: httpx.Client) -> list[str]:
    """Locations with nothing inside them: the ones stock can be put in."""
    places = api.get("/locations").json()["locations"]
    parents = {loc["parent"] for loc in places}
    return [loc["code"] for loc in places if loc["code"] not in parents]


def test_stock_create_an_item_and_receive_it(console, shoot):
    page = console.page
    console.open("stock")
    page.click("text=New item")
    form = page.locator('form[data-form="item"]')
    form.locator("input[name=sku]").fill("BOOK-CONSOLE-TEST")
    form.locator("input[name=name]").fill("Console test book")
    form.locator("input[name=low_stock_threshold]").fill("4")
    form.locator("button[type=submit]").click()
    page.wait_for_selector('table.items tr[data-sku="BOOK-CONSOLE-TEST"]')
    assert _figure(page, "BOOK-CONSOLE-TEST") == "0"

    move = page.locator("form").filter(has=page.locator("select[name=type]"))
    move.locator("select[name=type]").select_option("receipt")
    move.locator("input[name=sku]").fill("BOOK-CONSOLE-TEST")
    move.locator("input[name=qty]").fill("12")
    move.locator("button[type=submit]").click()
    deadline = time.monotonic() + 15  # the page's default timeout: a loaded CI host is slow
    while _figure(page, "BOOK-CONSOLE-TEST") != "12" and time.monotonic() < deadline:
        time.sleep(0.05)
    refusal = move.locator(".form-error").inner_text()
    assert _figure(page, "BOOK-CONSOLE-TEST") == "12", (refusal, console.refused)
    with console.server.client() as api:
        doc = api.get("/availability/BOOK-CONSOLE-TEST").json()
    assert doc["available"] == 12 and doc["on_hand"] == 12
    # Only stockable locations (bins, no warehouse) are offered.
    offered = move.locator("select[name=location] option").evaluate_all(
        "os => os.map(o => o.value)"
    )
    with console.server.client() as api:
        assert sorted(offered) == sorted(_bins(api))
    # Every movement type is in the form.
    types = move.locator("select[name=type] option").evaluate_all("os => os.map(o => o.value)")
    assert {"transfer_receive", "write_off", "return", "quality_hold", "quality_release"} <= set(
        types
    )
    # The item's charts are drawn (on hand per location, sales against the forecast).
    page.wait_for_selector('[data-chart="stock"] canvas')
    page.wait_for_selector('[data-chart="forecast"] canvas')
    shoot(console, "stock-item")


# Per canvas column band, how many pixels are the forecast's orange line and its shaded band.
ORANGE = """() => { const c = document.querySelector('[data-chart="forecast"] canvas');
  const { width, height } = c; const px = c.getContext('2d').getImageData(0, 0, width, height).data;
  const cols = 20, line = Array(cols).fill(0), band = Array(cols).fill(0);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 4, [r, g, b, a] = [px[i], px[i+1], px[i+2], px[i+3]];
    const k = Math.floor(x / width * cols);
    if (a > 200 && r > 200 && g > 60 && g < 120 && b < 60) line[k]++;
    else if (a > 20 && a < 90 && r > 200 && g > 60 && g < 130 && b < 60) band[k]++;
  }
  return { line, band }; }"""


def test_stock_draws_the_daily_forecast_and_its_interval_against_sales(console, shoot):
    page = console.page
    console.open("stock", "item=BOOK-DUNE")
    page.wait_for_selector('[data-chart="forecast"] canvas')
    note = page.wait_for_selector('[data-note="forecast"]')
    with console.server.client() as api:
        fc = api.get("/items/BOOK-DUNE/forecast").json()
    ahead = fc["forecast"]
    assert fc["model"] != "none"
    assert len({f["mean"] for f in ahead}) > 1, "a per-day forecast, not one rate"
    box = page.locator('[data-chart="forecast"]')
    assert box.get_attribute("data-model") == fc["model"]
    assert box.get_attribute("data-days") == str(len(ahead))
    week = round(sum(f["mean"] for f in ahead[:7]))
    assert f"next 7 days {week}" in note.inner_text()
    legend = box.locator(".u-legend").text_content()
    assert "sold" in legend and "95 % low" in legend and "95 % high" in legend
    # Drawn where it belongs: sales over the last 90 days, the forecast line and its shaded
    # interval only in the days ahead (the right part of the plot), none of it in the past.
    drawn = page.evaluate(ORANGE)
    future = 90 / (90 + len(ahead))  # where the days ahead start, as a share of the x axis
    cut = int(future * 20) + 1
    assert sum(drawn["line"][cut:]) > 50 and sum(drawn["band"][cut:]) > 200, drawn
    assert sum(drawn["line"][: cut - 3]) == 0 and sum(drawn["band"][: cut - 3]) == 0, drawn
    page.locator('h3:has-text("Sold a day")').scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -12)")
    shoot(console, "stock-forecast")


def test_stock_asks_before_a_suspicious_receipt(console):
    page = console.page
    console.open("stock", "item=BOOK-DUNE")
    with console.server.client() as api:
        before = api.get("/availability/BOOK-DUNE").json()["on_hand"]
    move = page.locator("form").filter(has=page.locator("select[name=type]"))
    move.locator("select[name=type]").select_option("receipt")
    move.locator("input[name=sku]").fill("BOOK-DUNE")
    move.locator("input[name=qty]").fill("900000")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    move.locator("button[type=submit]").click()
    page.wait_for_selector("text=Not posted: the quantity was not confirmed.")
    assert messages and "usual" in messages[0]
    with console.server.client() as api:
        assert api.get("/availability/BOOK-DUNE").json()["on_hand"] == before


def test_the_detail_opens_where_a_phone_user_is(console):
    console.width("phone")
    console.open("stock")
    page = console.page
    page.click('table.items tr[data-sku="BOOK-DUNE"]')
    page.wait_for_selector('.detail-card h2:has-text("Dune")')
    page.wait_for_timeout(400)
    top = page.evaluate("document.querySelector('.detail-card').getBoundingClientRect().top")
    assert -2 <= top < 844 / 2  # scrolled to the top of the window (sub-pixel rounding)
    assert console.overflow() == 0


def test_stock_renames_a_location_through_its_edit_form(console, shoot):
    with console.server.client() as api:
        made = api.post(
            "/locations",
            json={"code": "E2E-SHELF", "name": "Returns shelf", "parent": "SOUTH", "zone": "south"},
        )
        assert made.status_code == 201, made.text
    page = console.page
    for width in ("phone", "desktop"):  # the list and the form fit both widths
        console.width(width)
        console.open("stock")
        page.click('button[data-action="edit-location"][data-code="E2E-SHELF"]')
        form = page.locator('form[data-form="edit-location"]')
        assert form.locator("input[name=name]").input_value() == "Returns shelf"
        assert console.overflow() == 0, width
    # It cannot be put inside itself, so it is not offered as its own parent.
    offered = form.locator("select[name=parent] option").evaluate_all("os => os.map(o => o.value)")
    assert "E2E-SHELF" not in offered and "SOUTH" in offered
    assert form.locator("select[name=parent]").input_value() == "SOUTH"
    form.locator("input[name=name]").fill("Returns shelf, by the door")
    shoot(console, "stock-location-form")
    form.locator("button[type=submit]").click()
    row = page.locator('table.locations tr:has(button[data-code="E2E-SHELF"])')
    row.locator("text=Returns shelf, by the door").wait_for()
    shoot(console, "stock-location-edited")
    with console.server.client() as api:
        doc = api.get("/locations/E2E-SHELF").json()
    assert doc["name"] == "Returns shelf, by the door"
    assert (doc["parent"], doc["zone"], doc["priority"]) == ("SOUTH", "south", 100)
    assert console.overflow() == 0
    console.width("phone")
    assert console.overflow() == 0
    assert console.errors == []


def test_planning_turns_a_chosen_suggestion_into_a_draft_order(console, shoot):
    page = console.page
    console.open("planning")
    page.click("text=Run plan")
    page.wait_for_selector(".supplier-group input[data-line]")
    box = page.locator(".supplier-group input[data-line]").first
    line_no = int(box.get_attribute("data-line"))
    box.check()
    shoot(console, "planning-chosen")
    page.click('button[data-action="order"]')
    console.ready("orders")
    with console.server.client() as api:
        suggestion = next(
            s
            for s in api.get("/plan/suggestions", params={"limit": 1000}).json()["suggestions"]
            if s["line_no"] == line_no
        )
        assert suggestion["purchase_order"] is not None
        orders = api.get("/purchase-orders", params={"status": "draft"}).json()["purchase_orders"]
        po = next(o for o in orders if o["number"] == suggestion["purchase_order"])
        assert [(ln["sku"], ln["qty"]) for ln in po["lines"]] == [
            (suggestion["sku"], suggestion["qty"])
        ]
    assert f"po={po['id']}" in page.url
    page.wait_for_selector(f'.detail-card h2:has-text("{po["number"]}")')


def test_a_purchase_order_is_approved_sent_and_received_in_part(console, shoot):
    page = console.page
    with console.server.client() as api:
        r = api.post(
            "/purchase-orders",
            json={
                "supplier": "HARBOUR",
                "location": "NORTH-A1",
                "lines": [{"sku": "BOOK-DUNE", "qty": 24, "unit_price": "5.00"}],
            },
        )
        assert r.status_code == 201, r.text
        po = r.json()
        before = api.get("/availability/BOOK-DUNE").json()
    console.open("orders", f"po={po['id']}")
    page.click('button[data-action="approve"]')
    page.wait_for_selector('.detail-card [data-status="approved"]')
    page.click('button[data-action="send"]')
    page.wait_for_selector('.detail-card [data-status="sent"]')
    page.fill('input[name="receive-BOOK-DUNE"]', "10")
    page.click('button[data-action="receive"]')
    page.wait_for_selector('.detail-card [data-status="partially_received"]')
    shoot(console, "orders-received")
    with console.server.client() as api:
        after = api.get("/availability/BOOK-DUNE").json()
        doc = api.get(f"/purchase-orders/{po['id']}").json()
    assert after["on_hand"] == before["on_hand"] + 10
    assert after["incoming"] == before["incoming"] + 14
    assert doc["lines"][0]["received"] == 10


def test_a_hold_is_listed_with_time_left_and_released(console, shoot):
    page = console.page
    with httpx.Client(
        base_url=f"{console.server.base}/v1/demo",
        headers={"Authorization": f"Bearer {console.server.storefront}"},
    ) as shop:
        r = shop.post(
            "/reservations", json={"lines": [{"sku": "BOOK-DUNE", "qty": 1}], "ttl_seconds": 600}
        )
        assert r.status_code == 201, r.text
        hold = r.json()["id"]
    console.open("reservations", "sku=BOOK-DUNE")
    cell = page.locator(f'.left[data-id="{hold}"]')
    assert re.fullmatch(r"(9|10) min \d\d s", cell.inner_text())
    shoot(console, "reservations-hold")
    cell.locator("xpath=ancestor::tr").locator('button[data-action="release"]').click()
    page.wait_for_selector(f'.left[data-id="{hold}"]', state="detached")
    with console.server.client() as api:
        assert api.get(f"/reservations/{hold}").json()["status"] == "released"


def test_history_pages_back_with_the_balance(console, shoot):
    page = console.page
    console.open("history", "sku=BOOK-DUNE&state=on_hand")
    first = page.locator("table.history tbody tr").evaluate_all(
        "rs => rs.map(r => Number(r.dataset.id))"
    )
    assert len(first) == 50
    page.click('button[data-action="next"]')
    page.wait_for_selector('[data-page="2"]')
    second = page.locator("table.history tbody tr").evaluate_all(
        "rs => rs.map(r => Number(r.dataset.id))"
    )
    assert second and max(second) < min(first)
    # The newest row's balance is what is on hand now at its location.
    page.click('button[data-action="prev"]')
    page.wait_for_selector('[data-page="1"]')
    top = page.locator("table.history tbody tr").first
    location = top.locator("td").nth(2).inner_text()
    balance = int(top.locator(".balance").inner_text().replace(",", ""))
    with console.server.client() as api:
        places = api.get("/availability/BOOK-DUNE").json()["locations"]
    assert balance == next(p["on_hand"] for p in places if p["location"] == location)
    shoot(console, "history-paged")


def test_the_home_tiles_agree_with_the_api(console):
    console.open("home")
    page = console.page
    with console.server.client() as api:
        returns = api.get("/console/tiles/returns").json()
    assert page.inner_text('[data-figure="returns-units"]') == str(returns["current"]["units"])
    assert page.locator('[data-tile="cover"] td.bad, [data-tile="cover"] td.ok').count() > 0


def test_valuation_shows_the_total_and_draws_its_chart(console):
    console.open("valuation")
    page = console.page
    with console.server.client() as api:
        total = api.get("/valuation").json()["totals"]["value"]
    shown = page.inner_text('[data-figure="total-value"]').replace(",", "")
    assert float(shown) == float(total)
    page.wait_for_selector('[data-chart="valuation"] canvas')


def test_the_movement_form_takes_a_lot_with_its_expiry_and_serial_numbers(console):
    """A lot item is received into a named lot with its use-by date, and a serial item with
    the serial number of each unit; the fields show only for such items."""
    with console.server.client() as api:
        for sku, tracking in (("E2E-MILK", "lot"), ("E2E-CAM", "serial")):
            r = api.post("/items", json={"sku": sku, "name": sku, "tracking": tracking})
            assert r.status_code == 201, r.text
    console.open("stock")
    page = console.page
    move = page.locator("form").filter(has=page.locator("select[name=type]"))
    move.locator("select[name=type]").select_option("receipt")
    move.locator("input[name=sku]").fill("BOOK-DUNE")
    assert move.locator(".f-lot").is_hidden() and move.locator(".f-serials").is_hidden()

    move.locator("input[name=sku]").fill("E2E-MILK")
    assert move.locator(".f-lot").is_visible() and move.locator(".f-expires_on").is_visible()
    assert move.locator(".f-serials").is_hidden()
    where = move.locator("select[name=location]").input_value()
    move.locator("input[name=qty]").fill("6")
    move.locator("input[name=lot]").fill("L-2026-12")
    move.locator("input[name=expires_on]").fill("2027-01-15")
    move.locator("button[type=submit]").click()
    page.wait_for_selector("text=Receipt of E2E-MILK")
    with console.server.client() as api:
        lots = api.get("/availability/E2E-MILK").json()["lots"]
    assert [(lot["lot"], lot["expires_on"], lot["on_hand"]) for lot in lots] == [
        ("L-2026-12", "2027-01-15", 6)
    ]

    move.locator("input[name=sku]").fill("E2E-CAM")
    assert move.locator(".f-serials").is_visible() and move.locator(".f-lot").is_hidden()
    move.locator("input[name=serials]").fill("CAM-001, CAM-002 CAM-003")
    move.locator("button[type=submit]").click()
    page.wait_for_selector("text=Receipt of E2E-CAM")
    with console.server.client() as api:
        doc = api.get("/availability/E2E-CAM").json()
        assert doc["on_hand"] == 3
        # CAM-002 is in stock there: it can be shipped from there, by its number.
        move_out = {"type": "ship", "sku": "E2E-CAM", "location": where, "serials": ["CAM-002"]}
        r = api.post("/movements", json=move_out)
        assert r.status_code == 201, r.text

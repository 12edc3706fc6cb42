"""Returns and cycle counts in a real browser, with the stock figures checked against the API."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import httpx


def _at(api: httpx.Client, sku: str, location: str) -> dict[str, int]:
    """The figures of one SKU at one location (zeros where it has never been)."""
    doc = api.get(f"/availability/{sku}").json()
    row = next((r for r in doc["locations"] if r["location"] == location), {})
    keys = ("available", "on_hand", "quality_control", "damaged")
    return {k: int(row.get(k, 0)) for k in keys}


def _shown(page, sku: str, figure: str) -> int:
    text = page.inner_text(f'[data-figure="{sku}/{figure}"]')
    return int(text.replace(",", ""))


def _wait_shown(page, sku: str, figure: str, value: int) -> None:
    cell = page.locator(f'[data-figure="{sku}/{figure}"]')
    cell.filter(has_text=re.compile(rf"^{value:,}$")).wait_for(timeout=5_000)


def test_a_return_is_requested_approved_received_and_inspected(console, shoot):
    page = console.page
    where, dune, hyperion = "NORTH-A1", "BOOK-DUNE", "BOOK-HYPERION"
    order = f"#E2E-{uuid.uuid4().hex[:6]}"
    with console.server.client() as api:
        before = {sku: _at(api, sku, where) for sku in (dune, hyperion)}
        refused = api.post(
            "/rma",
            json={"location": where, "lines": [{"sku": "NO-SUCH-BOOK", "qty": 1, "reason": "x"}]},
        ).json()
    console.open("returns")
    page.click('button[data-action="new"]')
    form = page.locator('form[data-form="rma"]')
    form.locator("select[name=location]").select_option(where)
    form.locator("input[name=order_reference]").fill(order)
    form.locator("input[name=customer]").fill("Ada at the corner café")
    line = form.locator(".rma-line").nth(0)
    line.locator("input[name=sku]").fill("NO-SUCH-BOOK")
    line.locator("input[name=qty]").fill("3")
    line.locator("input[name=reason]").fill("cover torn")
    form.locator("button[type=submit]").click()
    # A refusal is shown as the problem's own detail, and nothing is created.
    error = form.locator(".form-error .callout.error")
    error.wait_for()
    assert refused["detail"] in error.inner_text()
    line.locator("input[name=sku]").fill(dune)
    page.click('button[data-action="add-line"]')
    second = form.locator(".rma-line").nth(1)
    second.locator("input[name=sku]").fill(hyperion)
    second.locator("input[name=qty]").fill("1")
    second.locator("input[name=reason]").fill("wrong book sent")
    shoot(console, "returns-new")
    form.locator("button[type=submit]").click()
    page.wait_for_selector('.detail-card [data-status="requested"]')
    with console.server.client() as api:
        made = [r for r in api.get("/rma").json()["rmas"] if r["order_reference"] == order]
    assert len(made) == 1, made
    rma = made[0]
    assert [(ln["sku"], ln["qty"], ln["reason"]) for ln in rma["lines"]] == [
        (dune, 3, "cover torn"),
        (hyperion, 1, "wrong book sent"),
    ]
    assert rma["customer"] == "Ada at the corner café" and rma["location"] == where
    assert page.locator(f'.view-root [data-rma="{rma["id"]}"]').count() == 1  # in the list

    page.click('.detail-card button[data-action="approve"]')
    page.wait_for_selector('.detail-card [data-status="approved"]')
    # Two of the three announced units of the first line arrive.
    page.fill('input[name="received-1"]', "2")
    page.click('.detail-card button[data-action="receive"]')
    page.wait_for_selector('.detail-card [data-status="received"]')
    with console.server.client() as api:
        got = {sku: _at(api, sku, where) for sku in (dune, hyperion)}
    assert got[dune]["quality_control"] == before[dune]["quality_control"] + 2
    assert got[dune]["on_hand"] == before[dune]["on_hand"] + 2
    assert got[dune]["available"] == before[dune]["available"]  # not for sale yet
    assert got[hyperion]["quality_control"] == before[hyperion]["quality_control"] + 1
    _wait_shown(page, dune, "quality_control", got[dune]["quality_control"])
    assert _shown(page, dune, "available") == got[dune]["available"]

    page.select_option('select[name="disposition-1"]', "restock")
    page.select_option('select[name="disposition-2"]', "damage")
    page.fill('input[name="note-2"]', "spine cracked")
    shoot(console, "returns-inspect")
    for width in ("phone", "desktop"):
        console.width(width)
        page.wait_for_timeout(150)
        assert console.overflow() == 0, width
    page.click('.detail-card button[data-action="inspect"]')
    page.wait_for_selector('.detail-card [data-status="closed"]')
    with console.server.client() as api:
        after = {sku: _at(api, sku, where) for sku in (dune, hyperion)}
        doc = api.get(f"/rma/{rma['id']}").json()
    assert [(ln["received"], ln["disposition"]) for ln in doc["lines"]] == [
        (2, "restock"),
        (1, "damage"),
    ]
    assert doc["lines"][1]["inspection_note"] == "spine cracked"
    assert after[dune]["available"] == before[dune]["available"] + 2
    assert after[dune]["quality_control"] == before[dune]["quality_control"]
    assert after[hyperion]["damaged"] == before[hyperion]["damaged"] + 1
    assert after[hyperion]["available"] == before[hyperion]["available"]
    # The figures on screen follow.
    _wait_shown(page, dune, "available", after[dune]["available"])
    _wait_shown(page, hyperion, "damaged", after[hyperion]["damaged"])
    assert _shown(page, dune, "quality_control") == after[dune]["quality_control"]
    shoot(console, "returns-closed")
    # The refused request was the browser's only logged failure.
    assert all("404" in e for e in console.errors), console.errors
    console.errors.clear()


def test_a_return_is_refused_with_its_reason_and_the_list_filters_by_status(console):
    page = console.page
    with console.server.client() as api:
        r = api.post(
            "/rma",
            json={
                "location": "SOUTH-A1",
                "order_reference": "#E2E-REFUSE",
                "lines": [{"sku": "BOOK-DUNE", "qty": 1, "reason": "changed my mind"}],
            },
        )
        assert r.status_code == 201, r.text
        rma = r.json()
    console.width("phone")
    console.open("returns", f"rma={rma['id']}")
    page.wait_for_selector('.detail-card [data-status="requested"]')
    page.click('.detail-card button[data-action="refuse"]')  # asks for the reason first
    page.fill('input[name="refusal"]', "outside the 30-day window")
    page.click('.detail-card button[data-action="refuse"]')
    page.wait_for_selector('.detail-card [data-status="refused"]')
    assert "outside the 30-day window" in page.inner_text(".detail-card")
    assert console.overflow() == 0
    with console.server.client() as api:
        doc = api.get(f"/rma/{rma['id']}").json()
    assert (doc["status"], doc["refusal"]) == ("refused", "outside the 30-day window")
    # Open returns by default; the refused one is listed under "refused", and the deep link
    # keeps the filter.
    assert page.locator(f'[data-rma="{rma["id"]}"]').count() == 0
    page.select_option('select[name="status"]', "refused")
    page.wait_for_selector(f'[data-rma="{rma["id"]}"]')
    assert "status=refused" in page.url
    statuses = page.locator("table.data [data-status]").evaluate_all(
        "els => els.map(e => e.dataset.status)"
    )
    assert statuses and set(statuses) == {"refused"}


def _cards(page) -> list[dict[str, str]]:
    return page.locator("form.count-task").evaluate_all(
        "fs => fs.map(f => ({id: f.dataset.task, sku: f.dataset.sku, location: f.dataset.location,"
        " text: f.innerText, step: f.querySelector('.count-step').textContent}))"
    )


def test_count_tasks_are_made_counted_blind_reviewed_and_approved(console, shoot):
    page = console.page
    console.open("counts")
    # The programme: every class counted daily, within 1 % or 2 units.
    form = page.locator('form[data-form="programme"]')
    for c in "ABC":
        form.locator(f'input[name="{c}-every_days"]').fill("1")
        form.locator(f'input[name="{c}-tolerance_pct"]').fill("1")
        form.locator(f'input[name="{c}-tolerance_units"]').fill("2")
    form.locator("button[type=submit]").click()
    page.locator(".hint", has_text="Saved").wait_for()
    with console.server.client() as api:
        programme = api.get("/counts/programme").json()
    for c in "ABC":
        rule = programme[c]
        assert (rule["every_days"], rule["tolerance_pct"], rule["tolerance_units"]) == (1, "1", 2)

    page.click('button[data-action="generate"]')
    # The answer first (cards the server's start-up job made may be on the page already), then
    # the lists loaded again with what it made.
    page.locator("#toast", has_text=re.compile("made for|No new tasks")).wait_for()
    with console.server.client() as api:
        listed = api.get("/counts/tasks", params={"status": "open"}).json()["tasks"]
    page.wait_for_function(
        "n => document.querySelectorAll('form.count-task').length === n", arg=len(listed)
    )
    with console.server.client() as api:
        skus = {t["sku"] for t in listed}
        items = {s: api.get(f"/items/{s}") for s in skus}
        assert all(r.status_code == 200 for r in items.values()), (
            [(r.status_code, r.text[:300]) for r in items.values()],
            console.server.warnings(),
        )
        names = {s: r.json()["name"] for s, r in items.items()}
    cards = _cards(page)
    assert len(listed) >= 3
    # In walking order, numbered, and blind: no figure but those of the bin, SKU and name.
    assert [c["id"] for c in cards] == [t["id"] for t in listed]
    assert [c["step"] for c in cards] == [str(i + 1) for i in range(len(cards))]
    for c in cards:
        text = c["text"].replace(c["step"], "", 1)
        allowed = set(re.findall(r"\d+", c["location"] + c["sku"] + names[c["sku"]]))
        assert set(re.findall(r"\d+", text)) <= allowed, text
    console.width("phone")
    entry = page.locator("form.count-task input[name=counted]").first
    box = entry.bounding_box()
    size = entry.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert box["height"] >= 44 and size >= 20, (box, size)  # big enough for a thumb
    assert console.overflow() == 0
    shoot(console, "counts-entry-phone")
    console.width("desktop")

    first, second, third = cards[:3]
    with console.server.client() as api:
        expected = {c["id"]: _at(api, c["sku"], c["location"])["on_hand"] for c in cards[:3]}

    def count(card: dict[str, str], qty: int) -> None:
        task = page.locator(f'form.count-task[data-task="{card["id"]}"]')
        task.locator("input[name=counted]").fill(str(qty))
        task.locator("button[type=submit]").click()
        task.wait_for(state="detached")

    # Within tolerance (one unit over, two allowed): posted at once, on hand becomes the count.
    count(first, expected[first["id"]] + 1)
    with console.server.client() as api:
        done = api.get(f"/counts/tasks/{first['id']}").json()
        assert (done["status"], done["within"]) == ("posted", True)
        assert _at(api, first["sku"], first["location"])["on_hand"] == expected[first["id"]] + 1
    page.locator("table.posted td", has_text=first["sku"]).first.wait_for()

    # Beyond it: nothing moves, the task waits for review with what was expected.
    count(second, expected[second["id"]] + 10)
    row = page.locator(f'.review-task[data-task="{second["id"]}"]')
    row.wait_for()
    shown = {
        key: row.locator(f'[data-figure="{key}"]').inner_text()
        for key in ("expected", "counted", "variance", "allowed")
    }
    assert shown == {
        "expected": f"{expected[second['id']]:,}",
        "counted": f"{expected[second['id']] + 10:,}",
        "variance": "+10",
        "allowed": "± 2",
    }
    with console.server.client() as api:
        assert api.get(f"/counts/tasks/{second['id']}").json()["status"] == "review"
        assert _at(api, second["sku"], second["location"])["on_hand"] == expected[second["id"]]

    # A third beyond tolerance is sent back: blind and open again, its card back in the list.
    count(third, expected[third["id"]] + 25)
    page.click(f'.review-task[data-task="{third["id"]}"] button[data-action="recount"]')
    page.wait_for_selector(f'form.count-task[data-task="{third["id"]}"]')
    with console.server.client() as api:
        back = api.get(f"/counts/tasks/{third['id']}").json()
    assert (back["status"], back["expected"], back["counted"]) == ("open", None, None)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(console, "counts-review")

    page.click(f'.review-task[data-task="{second["id"]}"] button[data-action="approve"]')
    row.wait_for(state="detached")
    with console.server.client() as api:
        assert api.get(f"/counts/tasks/{second['id']}").json()["status"] == "posted"
        assert _at(api, second["sku"], second["location"])["on_hand"] == expected[second["id"]] + 10
        acc = api.get("/counts/accuracy", params={"days": 90}).json()
    assert (acc["counted"], acc["within"]) == (2, 1)
    tile = page.locator('[data-accuracy="all"]')
    tile.filter(has_text="1 of 2 within").wait_for()
    assert "50.0 %" in tile.inner_text()
    for width in ("phone", "desktop"):
        console.width(width)
        page.wait_for_timeout(150)
        assert console.overflow() == 0, width
    shoot(console, "counts-approved")


def test_lots_by_item_expiring_soon_and_a_recall_confirmed_then_traced(console, shoot):
    page = console.page
    tag = uuid.uuid4().hex[:6].upper()
    sku, first, second = f"MILK-{tag}", f"A{tag}", f"B{tag}"
    soon = (date.today() + timedelta(days=4)).isoformat()
    later = (date.today() + timedelta(days=9)).isoformat()
    with console.server.client() as api:
        r = api.post(
            "/items",
            json={
                "sku": sku,
                "name": "Whole milk 1 l",
                "tracking": "lot",
                "expiry_warning_days": 2,
            },
        )
        assert r.status_code == 201, r.text
        for code, where, qty, lot in (
            ("NORTH-A1", "NORTH-A1", 24, {"code": first, "expires_on": soon}),
            (
                "NORTH-A1",
                "NORTH-A1",
                10,
                {"code": second, "expires_on": later, "supplier": "HARBOUR"},
            ),
            ("NORTH-A2", "NORTH-A2", 5, {"code": second, "expires_on": later}),
        ):
            r = api.post(
                "/movements",
                json={
                    "type": "receipt",
                    "sku": sku,
                    "location": where,
                    "qty": qty,
                    "reference": f"PO-{tag}",
                    "lot": lot,
                },
            )
            assert r.status_code == 201, (code, r.text)
        # A checkout asks for the later lot by name.
        r = api.post(
            "/reservations",
            json={
                "lines": [{"sku": sku, "qty": 6, "lot": second}],
                "reference": f"order-{tag}",
                "ttl_seconds": 3600,
            },
        )
        assert r.status_code == 201, r.text
        hold = r.json()["id"]
        doc = api.get(f"/availability/{sku}").json()
    assert [lot["lot"] for lot in doc["lots"]] == [first, second]

    # The item's detail breaks its stock down by lot, first to expire first.
    console.open("stock", f"item={sku}")
    page.wait_for_selector(f'.detail-card a[data-lot="{second}"]')
    shown = page.locator("table.lots a[data-lot]").evaluate_all("as => as.map(a => a.dataset.lot)")
    assert shown == [first, second]
    for lot in doc["lots"]:
        for key in ("available", "on_hand", "quality_control"):
            cell = page.inner_text(f'[data-figure="lot/{lot["lot"]}/{key}"]')
            assert int(cell.replace(",", "")) == lot[key], (lot["lot"], key)
    shoot(console, "stock-lots")

    # Expiring soon: within 7 days only the first lot; within 14 both. A lot opens its trace.
    page.click(f'.detail-card a[data-lot="{first}"]')
    console.ready("lots")
    assert f"sku={sku}" in page.url and f"lot={first}" in page.url
    page.wait_for_selector(f'[data-lot="{sku}/{first}"]')
    assert page.locator(f'[data-lot="{sku}/{second}"]').count() == 0
    page.select_option('select[name="days"]', "14")
    page.wait_for_selector(f'[data-lot="{sku}/{second}"]')
    page.click(f'[data-lot="{sku}/{second}"]')
    head = page.locator(".detail-card h2", has_text=f"lot {second}")
    head.wait_for()
    body = page.inner_text(".detail-card")
    assert "HARBOUR" in body and f"PO-{tag}" in body and f"order-{tag}" in body

    # Recall asks first: nothing happens until it is confirmed.
    page.click('button[data-action="recall"]')
    confirm = page.locator('form[data-form="recall"]')
    confirm.wait_for()
    assert (
        "1 open hold" in confirm.inner_text() and "15 units on the shelves" in confirm.inner_text()
    )
    with console.server.client() as api:
        lots = api.get(f"/availability/{sku}").json()["lots"]
        assert all(lot["sellable"] for lot in lots)
    confirm.locator("input[name=reason]").fill(f"dairy notice {tag}")
    shoot(console, "lots-recall-confirm")
    confirm.locator('button[data-action="confirm-recall"]').click()
    page.wait_for_selector('.detail-card [data-state="recalled"]')
    summary = page.inner_text('[data-recall="done"]')
    assert f"dairy notice {tag}" in summary and "1 hold moved" in summary, summary
    with console.server.client() as api:
        after = {lot["lot"]: lot for lot in api.get(f"/availability/{sku}").json()["lots"]}
        held = api.get(f"/reservations/{hold}").json()
        trace = api.get(f"/lots/{sku}/{second}/trace").json()
    assert after[second]["sellable"] is False and after[second]["available"] == 0
    assert after[second]["quality_control"] == 15  # the hold moved off it first
    assert [(a["lot"], a["qty"]) for a in held["lines"][0]["allocations"]] == [(first, 6)]
    assert held["status"] == "active"
    # The trace on screen is the API's.
    for here in trace["now"]:
        for key in ("on_hand", "quality_control"):
            cell = page.inner_text(f'[data-figure="{here["location"]}/{key}"]')
            assert int(cell) == here[key], (here["location"], key)
    assert page.locator('button[data-action="recall"]').count() == 0
    for width in ("phone", "desktop"):
        console.width(width)
        page.wait_for_timeout(150)
        assert console.overflow() == 0, width
    shoot(console, "lots-recalled")

    # Back on the item, the recalled lot is marked not for sale.
    console.open("stock", f"item={sku}")
    row = page.locator("table.lots tr", has=page.locator(f'a[data-lot="{second}"]'))
    row.locator(".pill.bad", has_text="not for sale").wait_for()

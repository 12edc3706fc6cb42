"""One bad hold answers alone (issue 14, item 6): it is refused before it joins a batch.

A NUL in a reference is refused alike on both databases (PostgreSQL cannot store it; SQLite
would), and a bundle whose kits × quantity per kit passes the quantity cap is refused before
it can overflow a 64-bit column or hold more than any one request may.
"""

from __future__ import annotations

import asyncio

from test_group_commit import (
    findings_for,
    granted,
    held_by_reference,
    job,
    stock_up,
    submit_all,
)

from onhand import db
from onhand.catalog import service as catalog
from onhand.catalog.schemas import ItemIn
from onhand.errors import Invalid
from onhand.quantities import MAX_QTY
from onhand.reservations.batcher import GroupCommit


def test_a_reference_with_nul_is_refused_and_holds_nothing(api):
    api.post("/locations", json={"code": "WH1", "name": "Main"})
    api.post("/items", json={"sku": "HOT", "name": "Hot"})
    api.post("/movements", json={"type": "receipt", "sku": "HOT", "location": "WH1", "qty": 5})
    r = api.post("/reservations", json={"lines": [{"sku": "HOT", "qty": 1}], "reference": "c\x001"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/validation"
    assert "NUL" in r.json()["detail"]
    assert api.get("/reservations").json()["reservations"] == []
    assert api.get("/availability/HOT").json()["available"] == 5


def test_a_bundle_past_the_quantity_cap_answers_alone_in_its_batch(engine, tenant):
    stock_up(engine, tenant, HOT=10)
    with db.write(engine) as conn:
        catalog.create_item(
            conn, tenant, ItemIn(sku="ENDLESS", name="Backordered", allow_backorder=True)
        )
        for sku, per_kit in (("PACK-BIG", 10**6), ("PACK-HUGE", 10**8)):
            catalog.create_item(
                conn,
                tenant,
                ItemIn.model_validate(
                    {
                        "sku": sku,
                        "name": sku,
                        "kind": "bundle",
                        "components": [{"sku": "ENDLESS", "qty": per_kit}],
                    }
                ),
            )
    gc = GroupCommit(engine)
    jobs = [
        job(reference="good-0"),
        job(sku="PACK-BIG", qty=10**7, reference="past-the-cap"),  # 10¹³ units
        job(sku="PACK-HUGE", qty=MAX_QTY, reference="overflow"),  # 10²⁰: beyond 64 bits
        job(qty=2, reference="good-1"),
    ]
    answers = asyncio.run(asyncio.wait_for(submit_all(gc, tenant, jobs), 60))
    by_ref = {j.body.reference: a for j, a in zip(jobs, answers, strict=True)}
    assert gc.batches == 1, "all of them went in one batch"
    assert (granted(by_ref["good-0"]), granted(by_ref["good-1"])) == (True, True)
    for ref in ("past-the-cap", "overflow"):
        bad = by_ref[ref]
        assert isinstance(bad, Invalid) and bad.slug == "validation", (ref, bad)
        assert "more than one hold may take" in bad.detail
    assert held_by_reference(engine, tenant) == {"good-0": 1, "good-1": 2}
    assert findings_for(engine, tenant) == []

"""Channel allocation: what a store is offered under a buffer or share is held for it in onhand.

A mapping with a `buffer` or a `share` allocates. The units the store shows are reserved for
it (state `reserved`, ledger reason `channel_allocation`), so neither onhand's own checkout nor
another store can sell them: what all stores and onhand sell together never exceeds the stock,
even while each store sells on its own between pushes. Per (channel, item, onhand location):

    hold = what the store shows + its sales not yet recorded in onhand

The hold is raised before Shopify's figure is raised, and lowered only after Shopify's figure
was lowered, by no more than Shopify had; a sale recorded from the store takes its units from
the hold. So the hold always covers every unit the store can still sell. Writes to Shopify are
adjustments (`delta` with `changeFromQuantity`) sent only from the figure the step was worked
out from: after a sale at Shopify between our read and our write, the raised units are given
back and the step is worked out again from the new figure (sync.py), so a sale is never
counted twice and no unit stays held for a sale that was recorded already.

The offer is the mapping's buffer or share of the pool, the pool being the free stock of the
mapped locations plus every channel's hold there, and never more than can be held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, stock, tenancy
from ..catalog.service import Item, Location, items_by_id, locations_by_id
from ..stock.model import Change, Posting
from .offers import Mapped, allocate
from .service import Channel
from .tables import channel_allocations

REASON = "channel_allocation"
Holds = dict[tuple[int, int, int], int]  # (channel id, item id, location id) -> units held


def applies(m: Mapped) -> bool:
    """Held allocation: a buffer or share on a stocked item without lots (a bundle's kits are
    offered from its components' availability, and a lot item's offer from its sellable lots,
    and neither is held)."""
    return (
        (m.buffer is not None or m.share is not None)
        and m.item.stocked
        and m.item.tracking == "none"
    )


def held(conn: Connection, tenant: str, item_ids: Iterable[int]) -> Holds:
    """Every channel's holds on these items (read under the items' stock lock)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    a = channel_allocations
    rows = conn.execute(
        sa.select(a.c.channel_id, a.c.item_id, a.c.location_id, a.c.qty).where(
            tenancy.of(tenant, a), a.c.item_id.in_(ids), a.c.qty > 0
        )
    )
    return {(r.channel_id, r.item_id, r.location_id): int(r.qty) for r in rows}


@dataclass
class Step:
    """One mapped item at one Shopify location in a push: hold first, then write, then settle."""

    mapped: Mapped
    gid: str
    places: list[Location]
    level: int  # Shopify's `available` as read before the push
    target: int  # what Shopify is to show
    offer: dict[str, Any]
    raised: dict[int, int] = field(default_factory=dict)  # location id -> units held for it
    lower: int = 0  # units to release once Shopify's figure is down
    # The hold did not cover Shopify's figure as read. Either the store shows units never
    # held (a new mapping), or the figure is older than the hold: sales made since the read
    # and recorded already. The sales not yet recorded are then undercounted, and what was
    # raised is right only if Shopify still has the figure (a write from it succeeds, or the
    # same figure is read again); if not, it is given back and the step redone.
    unsure: bool = False

    @property
    def delta(self) -> int:
        return self.target - self.level


def prepare(
    conn: Connection,
    ch: Channel,
    wanted: list[tuple[Mapped, str, list[Location], int]],
    now: datetime,
) -> list[Step]:
    """Decide each (mapped item, Shopify location, its onhand places, Shopify's level) and hold
    what is to be raised, in the caller's transaction."""
    tenant, channel_id = ch.tenant, ch.id
    ids = {m.item.id for m, _, _, _ in wanted}
    locked = stock.lock(conn, tenant, ids, now)
    free = {(f.item_id, f.location_id): max(f.available, 0) for fs in locked.values() for f in fs}
    holds = held(conn, tenant, ids)
    steps: list[Step] = []
    changes: list[Change] = []
    for m, gid, places, level in wanted:
        item, where = m.item.id, {p.id for p in places}
        own = {p.id: holds.get((channel_id, item, p.id), 0) for p in places}
        spare = sum(free.get((item, p.id), 0) for p in places)
        pool = spare + sum(q for (_, i, loc), q in holds.items() if i == item and loc in where)
        wish, offer = allocate(pool, m)
        hold, shelf = sum(own.values()), max(level, 0)
        unrecorded = max(hold - shelf, 0)  # sold at the store, not yet recorded here
        target = min(wish, min(hold, shelf) + spare)
        step = Step(m, gid, places, level, target, offer, unsure=hold < shelf)
        change = target + unrecorded - hold
        for p in places if change > 0 else ():
            q = min(change, free.get((item, p.id), 0))
            if q > 0:
                changes.append(Change(m.item, {"reserved": q}, location=p))
                free[(item, p.id)] -= q
                holds[(channel_id, item, p.id)] = own[p.id] + q
                step.raised[p.id] = q
                change -= q
        step.lower = max(-change, 0)
        steps.append(step)
    if changes:
        stock.apply(conn, tenant, changes, _posting(ch), now, locked=locked)
        raised = [(s.mapped.item.id, p) for s in steps for p in s.raised]
        _save(conn, ch, raised, holds, now)
    return steps


def settle(
    conn: Connection,
    ch: Channel,
    done: list[tuple[Step, bool]],
    now: datetime,
) -> None:
    """After the write, per step (written?): release what Shopify no longer shows, or the units
    raised for a write that did not happen. A write is only ever made from the figure the
    step was worked out from (an adjustment whose figure moved is not sent)."""
    tenant, channel_id = ch.tenant, ch.id
    ids = {s.mapped.item.id for s, _ in done}
    locked = stock.lock(conn, tenant, ids, now)
    holds = held(conn, tenant, ids)
    changes: list[Change] = []
    saved: list[tuple[int, int]] = []
    for step, written in done:
        item = step.mapped.item
        if not written:
            release = [
                (p, min(step.raised.get(p.id, 0), holds.get((channel_id, item.id, p.id), 0)))
                for p in step.places
            ]
        else:
            left = step.lower
            release = []
            for p in reversed(step.places):
                q = min(left, holds.get((channel_id, item.id, p.id), 0))
                release.append((p, q))
                left -= q
        for p, q in release:
            if q > 0:
                changes.append(Change(item, {"reserved": -q}, location=p, sells=False))
                holds[(channel_id, item.id, p.id)] -= q
                saved.append((item.id, p.id))
    if changes:
        stock.apply(conn, tenant, changes, _posting(ch), now, locked=locked)
        _save(conn, ch, saved, holds, now)


def take_sold(
    conn: Connection, ch: Channel, item: Item, places: list[Location], qty: int, now: datetime
) -> tuple[list[Change], dict[int, int]]:
    """A store sale's units out of the store's own hold, the item's stock already locked: the
    changes to apply (on_hand and reserved down) and the units per location (holds saved)."""
    channel_id = ch.id
    holds = held(conn, ch.tenant, [item.id])
    left, taken, changes = qty, {}, []
    for p in places:
        q = min(left, holds.get((channel_id, item.id, p.id), 0))
        if q > 0:
            changes.append(Change(item, {"on_hand": -q, "reserved": -q}, location=p, sells=False))
            taken[p.id] = q
            holds[(channel_id, item.id, p.id)] -= q
            left -= q
    _save(conn, ch, [(item.id, p) for p in taken], holds, now)
    return changes, taken


def release_orphans(
    conn: Connection, ch: Channel, kept: set[tuple[int, int]], now: datetime
) -> int:
    """Give back the channel's holds on (item, location) pairs it no longer allocates from (the
    mapping lost its buffer or share or is gone, or the location left the channel); returns
    the units released. Run after a full push, which has held what the store is offered now."""
    a = channel_allocations
    rows = [
        r
        for r in conn.execute(
            sa.select(a.c.item_id, a.c.location_id, a.c.qty).where(
                tenancy.of(ch.tenant, a), a.c.channel_id == ch.id, a.c.qty > 0
            )
        )
        if (r.item_id, r.location_id) not in kept
    ]
    if not rows:
        return 0
    ids = {r.item_id for r in rows}
    locked = stock.lock(conn, ch.tenant, ids, now)
    holds = held(conn, ch.tenant, ids)  # read again under the lock
    by_id, places = items_by_id(conn, ch.tenant, ids), locations_by_id(conn, ch.tenant)
    changes: list[Change] = []
    released = []
    for r in rows:
        q = holds.get((ch.id, r.item_id, r.location_id), 0)
        if q > 0:
            where = places[r.location_id]
            changes.append(Change(by_id[r.item_id], {"reserved": -q}, location=where, sells=False))
            holds[(ch.id, r.item_id, r.location_id)] = 0
            released.append((r.item_id, r.location_id))
    if changes:
        stock.apply(conn, ch.tenant, changes, _posting(ch), now, locked=locked)
        _save(conn, ch, released, holds, now)
    return sum(-c.deltas["reserved"] for c in changes)


def _posting(ch: Channel) -> Posting:
    return Posting(reason=REASON, actor="channel", reference=f"{ch.code} allocation")


def _save(
    conn: Connection, ch: Channel, touched: list[tuple[int, int]], holds: Holds, now: datetime
) -> None:
    """Write the holds of the touched (item, location) rows as they now stand."""
    rows = {
        (i, loc): {
            "tenant_id": ch.tenant,
            "channel_id": ch.id,
            "item_id": i,
            "location_id": loc,
            "qty": holds.get((ch.id, i, loc), 0),
            "updated_at": now,
        }
        for i, loc in touched
    }
    for row in rows.values():
        stmt = db.insert(conn, channel_allocations).values(**row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "channel_id", "item_id", "location_id"],
                set_={"qty": stmt.excluded.qty, "updated_at": stmt.excluded.updated_at},
            )
        )

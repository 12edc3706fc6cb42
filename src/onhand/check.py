"""`onhand check`: prove the invariants of the stock model over the whole database.

1. No state is negative; available >= 0 unless the item allows backorders.
2. Balances and print-on-demand bookings equal the sum of the ledger; reserved equals the sum
   of active reservation lines and channel allocation holds.
5. No row refers to a row of another tenant.

For lot-tracked items also: each lot state of a balance row is the sum of its lot rows, lot
rows equal the ledger's per-lot sums and their `reserved` the active hold lines on the lot
(invariant 2); no lot was held or shipped after its expiry date or its recall, and no lot
that may not be sold today counts as available (invariant 6).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import db
from .channels.tables import channel_allocations
from .stock.model import LOT_STATES, POD_STATES, STATES
from .stock.sql import available_expr
from .tables import (
    balances,
    bundle_components,
    items,
    ledger,
    locations,
    lot_balances,
    lots,
    pod_bookings,
    reservation_lines,
    serial_numbers,
    tenants,
    tokens,
)


@dataclass(frozen=True)
class Finding:
    invariant: int
    what: str


def _negative_states(conn: Connection) -> list[Finding]:
    now = db.utcnow()
    out = []
    negative = sa.or_(*(balances.c[s] < 0 for s in STATES))
    for r in conn.execute(sa.select(balances).where(negative)):
        bad = {s: getattr(r, s) for s in STATES if getattr(r, s) < 0}
        out.append(
            Finding(
                1, f"tenant {r.tenant_id} item {r.item_id} location {r.location_id}: negative {bad}"
            )
        )
    oversold = conn.execute(
        sa.select(
            balances.c.tenant_id,
            items.c.sku,
            balances.c.location_id,
            available_expr(now).label("available"),
        )
        .join(items, items.c.id == balances.c.item_id)
        .where(~items.c.allow_backorder, available_expr(now) < 0)
    )
    for r in oversold:
        out.append(
            Finding(
                1,
                f"tenant {r.tenant_id} {r.sku} at location {r.location_id}: "
                f"available is {r.available} (no backorders allowed)",
            )
        )
    for r in conn.execute(
        sa.select(pod_bookings).where(
            sa.or_(pod_bookings.c.reserved < 0, pod_bookings.c.committed < 0)
        )
    ):
        out.append(
            Finding(1, f"tenant {r.tenant_id} pod item {r.item_id} on {r.day}: negative booking")
        )
    return out


def _ledger_matches_balances(conn: Connection) -> list[Finding]:
    sums: dict[tuple, int] = defaultdict(int)
    rows = conn.execute(
        sa.select(
            ledger.c.tenant_id,
            ledger.c.item_id,
            ledger.c.location_id,
            ledger.c.state,
            sa.func.sum(ledger.c.delta),
        )
        .where(ledger.c.location_id.is_not(None))
        .group_by(ledger.c.tenant_id, ledger.c.item_id, ledger.c.location_id, ledger.c.state)
    )
    for t, i, loc, state, total in rows:
        sums[(t, i, loc, state)] = int(total)
    out = []
    seen = set()
    for r in conn.execute(sa.select(balances)):
        for s in STATES:
            key = (r.tenant_id, r.item_id, r.location_id, s)
            seen.add(key)
            if getattr(r, s) != sums.get(key, 0):
                out.append(
                    Finding(
                        2,
                        f"tenant {r.tenant_id} item {r.item_id} location "
                        f"{r.location_id}: {s} is {getattr(r, s)}, ledger sums to "
                        f"{sums.get(key, 0)}",
                    )
                )
    for key, total in sums.items():
        if key not in seen and total != 0:
            out.append(
                Finding(
                    2,
                    f"tenant {key[0]} item {key[1]} location {key[2]}: ledger "
                    f"sums {key[3]} to {total} but there is no balance row",
                )
            )
    return out


def _ledger_matches_pod_bookings(conn: Connection) -> list[Finding]:
    """Print-on-demand capacity use is in the ledger like any other change (per item and day)."""
    key = (ledger.c.tenant_id, ledger.c.item_id, ledger.c.day, ledger.c.state)
    sums = {
        tuple(r[:4]): int(r[4])
        for r in conn.execute(
            sa.select(*key, sa.func.sum(ledger.c.delta))
            .where(ledger.c.location_id.is_(None))
            .group_by(*key)
        )
    }
    out = []
    for r in conn.execute(sa.select(pod_bookings)):
        for s in POD_STATES:
            total = sums.pop((r.tenant_id, r.item_id, r.day, s), 0)
            if getattr(r, s) != total:
                out.append(
                    Finding(
                        2,
                        f"tenant {r.tenant_id} pod item {r.item_id} on {r.day}: {s} is "
                        f"{getattr(r, s)}, ledger sums to {total}",
                    )
                )
    for (t, i, day, s), total in sums.items():
        if total != 0:
            out.append(
                Finding(
                    2,
                    f"tenant {t} pod item {i} on {day}: ledger sums {s} to {total} "
                    "but there is no booking row",
                )
            )
    return out


def _reserved_matches_holds(conn: Connection) -> list[Finding]:
    rl = reservation_lines
    held = dict(
        ((r[0], r[1], r[2]), int(r[3]))
        for r in conn.execute(
            sa.select(rl.c.tenant_id, rl.c.item_id, rl.c.location_id, sa.func.sum(rl.c.qty))
            .where(rl.c.active, rl.c.location_id.is_not(None))
            .group_by(rl.c.tenant_id, rl.c.item_id, rl.c.location_id)
        )
    )
    # Units a store channel's allocation holds are reserved too (channels/allocations.py).
    ca = channel_allocations
    for r in conn.execute(
        sa.select(ca.c.tenant_id, ca.c.item_id, ca.c.location_id, sa.func.sum(ca.c.qty))
        .where(ca.c.qty > 0)
        .group_by(ca.c.tenant_id, ca.c.item_id, ca.c.location_id)
    ):
        key = (r[0], r[1], r[2])
        held[key] = held.get(key, 0) + int(r[3])
    out = []
    for r in conn.execute(
        sa.select(
            balances.c.tenant_id, balances.c.item_id, balances.c.location_id, balances.c.reserved
        )
    ):
        want = held.pop((r.tenant_id, r.item_id, r.location_id), 0)
        if r.reserved != want:
            out.append(
                Finding(
                    2,
                    f"tenant {r.tenant_id} item {r.item_id} location "
                    f"{r.location_id}: reserved is {r.reserved}, active holds "
                    f"add up to {want}",
                )
            )
    for key, want in held.items():
        out.append(
            Finding(
                2,
                f"tenant {key[0]} item {key[1]} location {key[2]}: active holds "
                f"of {want} but no balance row",
            )
        )
    pod_held = dict(
        ((r[0], r[1], r[2]), int(r[3]))
        for r in conn.execute(
            sa.select(rl.c.tenant_id, rl.c.item_id, rl.c.day, sa.func.sum(rl.c.qty))
            .where(rl.c.active, rl.c.day.is_not(None))
            .group_by(rl.c.tenant_id, rl.c.item_id, rl.c.day)
        )
    )
    for r in conn.execute(sa.select(pod_bookings)):
        want = pod_held.pop((r.tenant_id, r.item_id, r.day), 0)
        if r.reserved != want:
            out.append(
                Finding(
                    2,
                    f"tenant {r.tenant_id} pod item {r.item_id} on {r.day}: "
                    f"reserved is {r.reserved}, active holds add up to {want}",
                )
            )
    for key, want in pod_held.items():
        out.append(
            Finding(
                2,
                f"tenant {key[0]} pod item {key[1]} on {key[2]}: active holds of "
                f"{want} but no booking row",
            )
        )
    return out


def _cross_tenant(conn: Connection) -> list[Finding]:
    """Rows whose tenant differs from the tenant of a row they point at."""
    parent = locations.alias("parent")
    comp = items.alias("component")
    links = [
        (
            "balances → items",
            sa.select(sa.func.count())
            .select_from(balances.join(items, items.c.id == balances.c.item_id))
            .where(items.c.tenant_id != balances.c.tenant_id),
        ),
        (
            "balances → locations",
            sa.select(sa.func.count())
            .select_from(balances.join(locations, locations.c.id == balances.c.location_id))
            .where(locations.c.tenant_id != balances.c.tenant_id),
        ),
        (
            "ledger → items",
            sa.select(sa.func.count())
            .select_from(ledger.join(items, items.c.id == ledger.c.item_id))
            .where(items.c.tenant_id != ledger.c.tenant_id),
        ),
        (
            "ledger → locations",
            sa.select(sa.func.count())
            .select_from(ledger.join(locations, locations.c.id == ledger.c.location_id))
            .where(locations.c.tenant_id != ledger.c.tenant_id),
        ),
        (
            "holds → items",
            sa.select(sa.func.count())
            .select_from(reservation_lines.join(items, items.c.id == reservation_lines.c.item_id))
            .where(items.c.tenant_id != reservation_lines.c.tenant_id),
        ),
        (
            "locations → parent",
            sa.select(sa.func.count())
            .select_from(locations.join(parent, parent.c.id == locations.c.parent_id))
            .where(parent.c.tenant_id != locations.c.tenant_id),
        ),
        (
            "bundles → components",
            sa.select(sa.func.count())
            .select_from(
                bundle_components.join(comp, comp.c.id == bundle_components.c.component_id)
            )
            .where(comp.c.tenant_id != bundle_components.c.tenant_id),
        ),
        (
            "tokens → tenants",
            sa.select(sa.func.count())
            .select_from(tokens.outerjoin(tenants, tenants.c.id == tokens.c.tenant_id))
            .where(tenants.c.id.is_(None)),
        ),
    ]
    out = []
    for name, stmt in links:
        n = conn.execute(stmt).scalar()
        if n:
            out.append(Finding(5, f"{n} rows cross tenants: {name}"))
    return out


def _serials_add_up(conn: Connection) -> list[Finding]:
    """A serial-tracked item's units in stock at a location are as many as its on_hand there
    (a serial is one row, so it is never in two places)."""
    s = serial_numbers
    counted = {
        (r[0], r[1], r[2]): int(r[3])
        for r in conn.execute(
            sa.select(s.c.tenant_id, s.c.item_id, s.c.location_id, sa.func.count())
            .where(s.c.status == "in_stock")
            .group_by(s.c.tenant_id, s.c.item_id, s.c.location_id)
        )
    }
    out = []
    rows = conn.execute(
        sa.select(
            balances.c.tenant_id, balances.c.item_id, balances.c.location_id, balances.c.on_hand
        )
        .join(
            items, (items.c.id == balances.c.item_id) & (items.c.tenant_id == balances.c.tenant_id)
        )
        .where(items.c.tracking == "serial")
    )
    for r in rows:
        units = counted.pop((r.tenant_id, r.item_id, r.location_id), 0)
        if units != r.on_hand:
            out.append(
                Finding(
                    2,
                    f"tenant {r.tenant_id} item {r.item_id} location {r.location_id}: on_hand is "
                    f"{r.on_hand}, units in stock by serial {units}",
                )
            )
    for (tenant, item, loc), units in counted.items():
        out.append(
            Finding(
                2,
                f"tenant {tenant} item {item} location {loc}: {units} serials in "
                "stock but no balance row",
            )
        )
    return out


def _lots_add_up(conn: Connection) -> list[Finding]:
    """A lot item's balance row is the sum of its lot rows; lot rows are the ledger's sums per
    lot; a lot row's `reserved` is the sum of the active hold lines on that lot."""
    lb = lot_balances
    out = []
    key = (lb.c.tenant_id, lb.c.item_id, lb.c.location_id)
    summed = {
        tuple(r[:3]): dict(zip(LOT_STATES, map(int, r[3:]), strict=True))
        for r in conn.execute(
            sa.select(*key, *(sa.func.sum(lb.c[s]) for s in LOT_STATES)).group_by(*key)
        )
    }
    tracked = conn.execute(
        sa.select(balances)
        .join(items, items.c.id == balances.c.item_id)
        .where(items.c.tenant_id == balances.c.tenant_id, items.c.tracking == "lot")
    )
    for r in tracked:
        none = dict.fromkeys(LOT_STATES, 0)
        lots_here = summed.pop((r.tenant_id, r.item_id, r.location_id), none)
        for s in LOT_STATES:
            if getattr(r, s) != lots_here[s]:
                out.append(
                    Finding(
                        2,
                        f"tenant {r.tenant_id} item {r.item_id} location {r.location_id}: "
                        f"{s} is {getattr(r, s)}, its lots add up to {lots_here[s]}",
                    )
                )
    for (t, i, loc), figures in summed.items():
        if any(figures.values()):
            out.append(Finding(2, f"tenant {t} item {i} location {loc}: lots but no balance row"))
    lkey = (ledger.c.tenant_id, ledger.c.item_id, ledger.c.location_id, ledger.c.lot_id)
    booked = {
        (*r[:4], r[4]): int(r[5])
        for r in conn.execute(
            sa.select(*lkey, ledger.c.state, sa.func.sum(ledger.c.delta))
            .where(ledger.c.lot_id.is_not(None))
            .group_by(*lkey, ledger.c.state)
        )
    }
    rl = reservation_lines
    hkey = (rl.c.tenant_id, rl.c.item_id, rl.c.location_id, rl.c.lot_id)
    held = {
        tuple(r[:4]): int(r[4])
        for r in conn.execute(
            sa.select(*hkey, sa.func.sum(rl.c.qty))
            .where(rl.c.active, rl.c.lot_id.is_not(None))
            .group_by(*hkey)
        )
    }
    for r in conn.execute(sa.select(lb)):
        row = (r.tenant_id, r.item_id, r.location_id, r.lot_id)
        where = f"tenant {r.tenant_id} item {r.item_id} location {r.location_id} lot {r.lot_id}"
        for s in STATES:
            total = booked.pop((*row, s), 0)
            if getattr(r, s) != total:
                out.append(Finding(2, f"{where}: {s} is {getattr(r, s)}, ledger sums to {total}"))
        if r.reserved != (want := held.pop(row, 0)):
            out.append(Finding(2, f"{where}: reserved is {r.reserved}, active holds hold {want}"))
    for (t, i, loc, lot, s), total in booked.items():
        if total != 0:
            out.append(
                Finding(
                    2,
                    f"tenant {t} item {i} location {loc} lot {lot}: ledger sums {s} to "
                    f"{total} but there is no lot row",
                )
            )
    for (t, i, loc, lot), want in held.items():
        out.append(
            Finding(
                2,
                f"tenant {t} item {i} location {loc} lot {lot}: active holds of {want} "
                "but no lot row",
            )
        )
    return out


def _no_expired_lot_sold(conn: Connection) -> list[Finding]:
    """No lot was held or shipped after its expiry date (the guard decides by the tenant's
    day; this looks for any hold or shipment dated two or more UTC days past expiry, or one
    on a recalled lot after the recall)."""
    rows = conn.execute(
        sa.select(
            ledger.c.tenant_id,
            ledger.c.id,
            ledger.c.reason,
            ledger.c.created_at,
            lots.c.code,
            lots.c.expires_on,
            lots.c.recalled_at,
        )
        .join(lots, lots.c.id == ledger.c.lot_id)
        .where(
            lots.c.tenant_id == ledger.c.tenant_id,
            ledger.c.reason.in_(("reserve", "ship")),
            ledger.c.state.in_(("reserved", "on_hand")),
            ledger.c.delta != 0,
            sa.or_(lots.c.expires_on.is_not(None), lots.c.recalled_at.is_not(None)),
        )
    )
    out = []
    for r in rows:
        day = r.created_at.astimezone(UTC).date()
        late = r.expires_on is not None and day > r.expires_on + timedelta(days=1)
        recalled = (
            r.reason == "reserve" and r.recalled_at is not None and r.created_at > r.recalled_at
        )
        if late or recalled:
            why = f"expired {r.expires_on}" if late else "recalled"
            out.append(
                Finding(
                    6,
                    f"tenant {r.tenant_id} lot {r.code}: ledger row {r.id} ({r.reason}, "
                    f"{r.created_at:%Y-%m-%d}) took units of a lot that {why}",
                )
            )
    return out


def _no_expired_lot_available(conn: Connection) -> list[Finding]:
    """What availability answers for a lot-tracked item never counts a lot that may not be
    sold today (expired, within the item's minimum shelf life, recalled): at each location it
    is at most what the sellable lots there hold."""
    from . import tenants as tenant_settings
    from .catalog import service as catalog
    from .stock import lots as lot_rows
    from .stock import model
    from .stock.availability import availability

    now = db.utcnow()
    out = []
    found = conn.execute(
        sa.select(items.c.tenant_id, items.c.sku).where(items.c.tracking == "lot")
    ).all()
    for tenant, sku in found:
        item = catalog.item(conn, tenant, sku)
        sell_by = model.sell_by(
            tenant_settings.load(conn, tenant).day(now), item.min_shelf_life_days
        )
        sellable: dict[str, int] = defaultdict(int)
        codes = {loc.id: loc.code for loc in catalog.locations_by_id(conn, tenant).values()}
        for r in lot_rows.rows(conn, tenant, {item.id}, now):
            if r.lot.sellable(sell_by):
                sellable[codes[r.location_id]] += max(r.available, 0)
        doc = availability(conn, tenant, item, now)
        for row in doc["locations"]:
            if row["available"] > sellable[row["location"]]:
                out.append(
                    Finding(
                        6,
                        f"tenant {tenant} {sku} at {row['location']}: available is "
                        f"{row['available']}, its sellable lots hold {sellable[row['location']]}",
                    )
                )
        for lot in doc.get("lots", []):
            if not lot["sellable"] and lot["available"] != 0:
                out.append(
                    Finding(6, f"tenant {tenant} {sku} lot {lot['lot']}: unsellable but available")
                )
    return out


def run(conn: Connection) -> list[Finding]:
    return [
        *_no_expired_lot_available(conn),
        *_lots_add_up(conn),
        *_serials_add_up(conn),
        *_no_expired_lot_sold(conn),
        *_negative_states(conn),
        *_ledger_matches_balances(conn),
        *_ledger_matches_pod_bookings(conn),
        *_reserved_matches_holds(conn),
        *_cross_tenant(conn),
    ]

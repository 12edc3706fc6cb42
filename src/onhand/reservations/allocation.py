"""Choosing locations for a line that names none: priority, most_stock or nearest_zone."""

from __future__ import annotations

from collections.abc import Callable

from ..stock.model import Free

# How near a zone is to the asked one (the tenant's dispatch preferences: distance, priority).
ZoneRank = Callable[[str, str | None], tuple[int, int]]
# Whether a hold asked for in one zone may take stock in another (inter-zone rules).
ZoneReach = Callable[[str, str | None], bool]


def order(
    places: list[Free], strategy: str, zone: str | None, near: ZoneRank | None = None
) -> list[Free]:
    if strategy == "most_stock":
        return sorted(places, key=lambda p: (-p.available, p.priority, p.code or ""))
    if strategy == "nearest_zone" and zone:
        return sorted(
            places,
            key=lambda p: (
                p.zone != zone,
                near(zone, p.zone) if near else (0, 0),
                p.priority,
                p.code or "",
            ),
        )
    return sorted(places, key=lambda p: (p.priority, p.code or ""))


def split(
    qty: int,
    places: list[Free],
    strategy: str,
    zone: str | None,
    backorder: bool,
    near: ZoneRank | None = None,
    reach: ZoneReach | None = None,
) -> list[tuple[Free, int]] | None:
    """Take `qty` from places in the strategy's order; None when it does not fit.

    A backordered item puts what is missing on the first place in that order. With
    nearest_zone, `reach` leaves out the zones the inter-zone rules do not allow.
    """
    parts: list[tuple[Free, int]] = []
    left = qty
    if strategy == "nearest_zone" and zone and reach:
        places = [p for p in places if reach(zone, p.zone)]
    ranked = order(places, strategy, zone, near)
    for place in ranked:
        take = min(left, max(place.available, 0))
        if take > 0:
            parts.append((place, take))
            left -= take
        if left == 0:
            return parts
    if backorder and ranked:
        first = ranked[0]
        for i, (place, take) in enumerate(parts):
            if place is first:
                parts[i] = (place, take + left)
                return parts
        return [(first, left), *parts]
    return None

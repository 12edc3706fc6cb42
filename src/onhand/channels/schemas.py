"""Request bodies of the channels API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..catalog.schemas import Body, Code

Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+$")]
Gid = Field(min_length=1, max_length=200, pattern=r"^gid://shopify/[A-Za-z]+/[0-9A-Za-z_-]+$")


class ChannelLocation(Body):
    location: str = Field(min_length=1, max_length=64)
    channel_location: str = Gid


ShelfLife = (
    "Lot items: the fewest days of shelf life a lot offered to (and sold on) this store keeps, "
    "on top of the item's own minimum"
)


class ChannelIn(Body):
    code: str = Code
    provider: Literal["shopify"] = "shopify"
    role: Literal["store", "partner"]
    shop: str = Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
    access_token: str = Field(min_length=1, max_length=500)
    webhook_secret: str | None = Field(default=None, min_length=1, max_length=500)
    api_url: str | None = Field(default=None, max_length=2000)
    locations: list[ChannelLocation] = Field(default_factory=list, max_length=100)
    sync_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    enabled: bool = True
    alert_emails: list[Email] = Field(default_factory=list, max_length=20)
    min_shelf_life_days: int | None = Field(default=None, ge=0, le=3650, description=ShelfLife)


class ChannelPatch(Body):
    shop: str | None = Field(
        default=None, min_length=3, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$"
    )
    access_token: str | None = Field(default=None, min_length=1, max_length=500)
    webhook_secret: str | None = Field(default=None, min_length=1, max_length=500)
    api_url: str | None = Field(default=None, max_length=2000)
    locations: list[ChannelLocation] | None = Field(default=None, max_length=100)
    sync_interval_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    enabled: bool | None = None
    alert_emails: list[Email] | None = Field(default=None, max_length=20)
    min_shelf_life_days: int | None = Field(default=None, ge=0, le=3650, description=ShelfLife)


class MappingIn(Body):
    sku: str = Field(min_length=1, max_length=128)
    variant: str = Gid
    inventory_item: str | None = Field(
        default=None, max_length=200, pattern=r"^gid://shopify/InventoryItem/[0-9A-Za-z_-]+$"
    )
    # Allocation on a store: hold back `buffer` units, or offer at most `share` percent.
    buffer: int | None = Field(default=None, ge=0, le=10**9)
    share: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_allocation(self) -> MappingIn:
        if self.buffer is not None and self.share is not None:
            raise ValueError("give a buffer or a share, not both")
        return self


class MappingsIn(Body):
    mappings: list[MappingIn] = Field(min_length=1, max_length=5000)

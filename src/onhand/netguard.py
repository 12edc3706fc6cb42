"""Outbound HTTP only to addresses a tenant may reach (webhooks, channel API URLs).

A tenant chooses the URLs onhand calls, so without this rule a webhook or a channel's
`api_url` could reach the metadata service, the database or Redis on the server's own network,
and the delivery log would act as a port scanner. Two checks:

- `check_url` at registration: a well-formed http(s) URL with a host name and nothing hidden in
  it (control characters, credentials, a bare-number host such as `2130706433`).
- `GuardedTransport` on every request, redirects included (httpx sends each hop through the
  transport): the host is resolved and every address it resolves to must be public, or inside
  a network the operator listed in `ONHAND_ALLOW_PRIVATE_NETWORKS`.

The request then connects to the very address that was checked (the host name stays in the
`Host` header and in TLS server-name and certificate checks), so a name that resolves to a
public address at the check and to a private one at the connection (DNS rebinding) cannot slip
through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedUrl(ValueError):
    """An outbound URL that onhand refuses to call; the message is safe to show the tenant."""


def parse_networks(spec: str | Iterable[str] | None) -> tuple[Network, ...]:
    """`127.0.0.0/8,10.0.0.0/8` (or a list of CIDRs) as networks; raises ValueError when bad."""
    if not spec:
        return ()
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in parts if p.strip())


def address_allowed(address: Address, allowed: tuple[Network, ...] = ()) -> bool:
    if any(address in net for net in allowed if net.version == address.version):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address_allowed(address.ipv4_mapped, allowed)
    return address.is_global and not address.is_multicast


def check_url(url: str, allowed: tuple[Network, ...] = ()) -> httpx.URL:
    """The parsed URL, or BlockedUrl saying what is wrong with it (no DNS look-up here)."""
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise BlockedUrl("the URL contains spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise BlockedUrl(f"the URL is not valid: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise BlockedUrl("the URL must start with http:// or https://")
    host = parsed.host
    if not host:
        raise BlockedUrl("the URL has no host name")
    if parsed.userinfo:
        raise BlockedUrl("the URL must not carry a user name or password")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None and _legacy_ipv4(host):
        # 2130706433, 0x7f000001, 0177.0.0.1, 127.1: the resolver reads them as addresses.
        raise BlockedUrl("the host must be a name or a dotted address, not a bare number")
    if literal is not None and not address_allowed(literal, allowed):
        raise BlockedUrl(f"{host} is a private, loopback or link-local address")
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        loopback = ipaddress.ip_address("127.0.0.1")
        if not address_allowed(loopback, allowed):
            raise BlockedUrl(f"{host} is a loopback address")
    return parsed


def _legacy_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


async def resolve(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that refuses requests (and redirects) to addresses not allowed."""

    def __init__(self, allowed: tuple[Network, ...] = (), **transport: Any) -> None:
        self.allowed = allowed
        self._inner = httpx.AsyncHTTPTransport(**transport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        check_url(str(url), self.allowed)
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await resolve(url.host, port)
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {url.host}")
        for address in addresses:
            if not address_allowed(address, self.allowed):
                raise BlockedUrl(f"{url.host} resolves to an address that is not public")
        # Connect to the address just checked, not to a second look-up of the name; the
        # original request (and its URL, which redirects are resolved against) is untouched.
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions.setdefault("sni_hostname", url.host)
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(addresses[0])),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client(allowed: tuple[Network, ...] = (), **kwargs: Any) -> httpx.AsyncClient:
    """An AsyncClient whose every request and redirect goes through the guard."""
    return httpx.AsyncClient(transport=GuardedTransport(allowed), **kwargs)

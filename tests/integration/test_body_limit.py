"""Bodies are capped and never read before the caller is authenticated (issue 14, item 4)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from apikit import assert_problem
from fastapi.testclient import TestClient

from conftest import Api, LiveServer, make_token
from onhand.app import create_app
from onhand.settings import Settings

MB = 1024 * 1024


def _item_body(size: int) -> bytes:
    """A valid item, padded with JSON whitespace to `size` bytes."""
    doc = json.dumps({"sku": "BIG", "name": "Big", "kind": "physical"}).encode()
    return doc + b" " * max(0, size - len(doc))


def test_a_body_without_a_token_is_refused_before_it_is_parsed(api, tenant_state):
    before = tenant_state()
    r = api.client.post(
        f"/v1/{api.tenant}/items",
        content=b'{"sku": "A", "name": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 401)  # not the 422 of parsing the broken JSON
    r = api.client.post(
        f"/v1/{api.tenant}/items",
        content=b'{"sku": "A"',
        headers={"Authorization": "Bearer onh_000000000000_nosuchsecret"},
    )
    assert_problem(r, 401)
    assert tenant_state() == before


def test_a_body_with_another_tenants_token_is_refused_before_it_is_parsed(api, engine):
    other = make_token(engine, f"{api.tenant}x", "admin")
    r = api.client.post(
        f"/v1/{api.tenant}/items", content=b"{broken", headers={"Authorization": f"Bearer {other}"}
    )
    assert_problem(r, 403)


def test_a_body_over_the_limit_is_413_and_changes_nothing(api, tenant_state):
    before = tenant_state()
    r = api.post(
        "/items", content=_item_body(MB + 1000), headers={"Content-Type": "application/json"}
    )
    doc = assert_problem(r, 413, "body-too-large")
    assert "1048576" in doc["detail"]
    assert tenant_state() == before
    assert api.get("/items/BIG").status_code == 404


def test_a_chunked_body_over_the_limit_is_413(api, tenant_state):
    before = tenant_state()

    def chunks() -> Iterator[bytes]:
        body = _item_body(2 * MB)
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    r = api.post("/items", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "body-too-large")
    assert tenant_state() == before


def test_a_body_under_the_limit_is_served(api):
    r = api.post(
        "/items", content=_item_body(200_000), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text[:300]


def test_the_limit_is_a_setting(engine, tenant):
    app = create_app(
        Settings(database_url=str(engine.url), run_jobs=False, max_body_bytes=3 * MB), engine
    )
    with TestClient(app) as client:
        api = Api(client, tenant, make_token(engine, tenant, "admin"))
        r = api.post(
            "/items", content=_item_body(2 * MB), headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 201, r.text[:300]
        r = api.post(
            "/items", content=_item_body(4 * MB), headers={"Content-Type": "application/json"}
        )
        assert_problem(r, 413)


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _send_huge(port: int, path: str, token: str | None, size: int, chunked: bool) -> bytes:
    """Send a `size`-byte body as fast as the server takes it; what the server answered."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    piece = b"[" + b"1," * (256 * 1024)
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < size:
                data = piece[: size - sent]
                sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
                sent += len(data)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
        except OSError:
            pass
    return answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_does_not_grow_a_real_server(engine, tenant, chunked):
    shop = make_token(engine, tenant, "storefront")
    server = LiveServer(engine.url.render_as_string(hide_password=False))
    try:
        port, pid = server.port, server.proc.pid
        for _ in range(3):  # warm up: imports, pools, first requests
            _send_huge(port, f"/v1/{tenant}/reservations", shop, 10_000, chunked)
        time.sleep(0.5)
        before = _rss_kib(pid)
        answers = [
            _send_huge(port, f"/v1/{tenant}/items", None, 100 * MB, chunked),
            _send_huge(port, f"/v1/{tenant}/reservations", shop, 100 * MB, chunked),
        ]
        time.sleep(0.5)
        grown_mib = (_rss_kib(pid) - before) / 1024
        for answer in answers:
            assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"401", b"413"), answer[:200]
        assert grown_mib < 8, f"the server grew by {grown_mib:.1f} MiB"
    finally:
        server.stop()

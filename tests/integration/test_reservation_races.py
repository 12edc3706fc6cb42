"""The proof of issue 3: holds never oversell, under real concurrency against `onhand serve`.

Hundreds of requests race through real HTTP servers (threads, separate processes, two server
processes on one PostgreSQL) for a limited stock; exactly the stock is granted, the rest get
409 insufficient-stock, nothing answers 5xx, and `onhand check` stays clean. Every race is
bounded in count and in time.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from conftest import LiveServer, make_token
from onhand import check, db
from onhand.tables import balances, items, reservation_lines, reservations

RACE_SECONDS = 180  # no race may take longer than this (it takes seconds)
STOCK = 100


# ---- helpers ----------------------------------------------------------------------------------


def findings_for(engine, tenant: str) -> list[str]:
    with db.read(engine) as conn:
        return [
            f.what for f in check.run(conn) if f"tenant {tenant} " in f.what or f.invariant == 5
        ]


def cli_check_mentions(engine, tenant: str) -> str:
    """Run `onhand check` as a process; return its report lines about this tenant."""
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "COLUMNS": "500",
    }
    done = subprocess.run(
        [sys.executable, "-m", "onhand.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return "\n".join(ln for ln in done.stdout.splitlines() if tenant in ln)


def created(r: httpx.Response) -> dict:
    assert r.status_code == 201, r.text
    return r.json()


def receive(api, sku: str, qty: int, location: str = "WH1") -> None:
    created(
        api.post(
            "/movements", json={"type": "receipt", "sku": sku, "location": location, "qty": qty}
        )
    )


def cart(*lines: tuple[str, int], reference: str) -> dict:
    return {"lines": [{"sku": s, "qty": q} for s, q in lines], "reference": reference}


def figures(engine, tenant: str, sku: str) -> tuple[int, int]:
    """(on_hand, reserved) summed over locations, straight from the balances."""
    with db.read(engine) as conn:
        row = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(balances.c.on_hand), 0),
                sa.func.coalesce(sa.func.sum(balances.c.reserved), 0),
            )
            .join(items, items.c.id == balances.c.item_id)
            .where(balances.c.tenant_id == tenant, items.c.sku == sku)
        ).one()
    return int(row[0]), int(row[1])


def holds_by_reference(engine, tenant: str) -> dict[str, dict[str, int]]:
    """Per reservation reference: units held per SKU by its active lines."""
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(reservations.c.reference, items.c.sku, sa.func.sum(reservation_lines.c.qty))
            .join(
                reservation_lines,
                sa.and_(
                    reservation_lines.c.tenant_id == reservations.c.tenant_id,
                    reservation_lines.c.reservation_id == reservations.c.id,
                ),
            )
            .join(items, items.c.id == reservation_lines.c.item_id)
            .where(reservations.c.tenant_id == tenant, reservation_lines.c.active)
            .group_by(reservations.c.reference, items.c.sku)
        )
        out: dict[str, dict[str, int]] = {}
        for ref, sku, qty in rows:
            out.setdefault(ref, {})[sku] = int(qty)
        return out


def outcome(status: int, doc) -> str:
    """'granted', 'refused' (409 insufficient-stock) or a description of anything else."""
    if status == 201:
        return "granted"
    if (
        status == 409
        and isinstance(doc, dict)
        and str(doc.get("type", "")).endswith("/insufficient-stock")
    ):
        return "refused"
    return f"{status}: {str(doc)[:300]}"


def _answer(r: httpx.Response):
    try:
        return r.json()
    except ValueError:
        return r.text


def race_threads(
    urls: list[str],
    tenant: str,
    token: str,
    bodies: list[dict | None],
    workers: int = 64,
    paths: list[str] | None = None,
) -> list[tuple[int, object]]:
    """POST every body concurrently from `workers` threads, each with its own httpx client,
    spreading requests over `urls`; all threads start together. One (status, answer) per body.
    The path is reservations, or paths[n] for the n-th request."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()
    start = threading.Event()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
            with lock:
                clients.append(local.client)
        return local.client

    def one(n: int, body: dict) -> tuple[int, object]:
        start.wait(30)
        url = urls[n % len(urls)]
        path = paths[n] if paths else "reservations"
        try:
            r = client().post(f"{url}/v1/{tenant}/{path}", json=body)
        except httpx.HTTPError as exc:
            return -1, repr(exc)
        return r.status_code, _answer(r)

    pool = ThreadPoolExecutor(workers, thread_name_prefix="racer")
    try:
        futures = [pool.submit(one, n, body) for n, body in enumerate(bodies)]
        start.set()
        done, not_done = wait(futures, timeout=RACE_SECONDS)
        assert not not_done, f"{len(not_done)} requests did not finish within {RACE_SECONDS} s"
        return [f.result() for f in futures]
    finally:
        start.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for c in clients:
            c.close()


def _process_racer(
    url: str,
    tenant: str,
    token: str,
    bodies: list[tuple[int, dict]],
    threads: int,
    barrier,
    results,
) -> None:
    """One racing process (spawned): `threads` threads with their own clients, started together
    with the other processes at the barrier. Puts [(n, status, answer)] on `results`."""
    out: list[tuple[int, int, object]] = []
    clients = [
        httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
        for _ in range(threads)
    ]
    try:
        barrier.wait(60)

        def run(k: int) -> None:
            for n, body in bodies[k::threads]:
                try:
                    r = clients[k].post(f"{url}/v1/{tenant}/reservations", json=body)
                    out.append((n, r.status_code, _answer(r)))
                except httpx.HTTPError as exc:
                    out.append((n, -1, repr(exc)))

        workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(RACE_SECONDS)
    finally:
        for c in clients:
            c.close()
        results.put(out)


def race_processes(
    url: str, tenant: str, token: str, bodies: list[dict], processes: int = 6, threads: int = 8
) -> list[tuple[int, object]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    numbered = list(enumerate(bodies))
    procs = [
        ctx.Process(
            target=_process_racer,
            daemon=True,
            args=(url, tenant, token, numbered[p::processes], threads, barrier, results),
        )
        for p in range(processes)
    ]
    for p in procs:
        p.start()
    collected: list[tuple[int, int, object]] = []
    try:
        for _ in procs:
            collected += results.get(timeout=RACE_SECONDS)
    except queue_module.Empty:
        pytest.fail(f"a racing process did not report within {RACE_SECONDS} s")
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert sorted(n for n, _, _ in collected) == list(range(len(bodies))), "one answer per request"
    answers = {n: (status, doc) for n, status, doc in collected}
    return [answers[n] for n in range(len(bodies))]


def tally(results: list[tuple[int, object]]) -> Counter:
    return Counter(outcome(status, doc) for status, doc in results)


def assert_exactly_the_stock_granted(
    results, engine, tenant: str, sku: str = "HOT", stock: int = STOCK
) -> Counter:
    counts = tally(results)
    print(f"\n{sku} race on {engine.dialect.name}: {dict(counts)}")
    assert counts == Counter(granted=stock, refused=len(results) - stock), counts
    ids = [doc["id"] for status, doc in results if status == 201]
    assert len(set(ids)) == stock
    assert figures(engine, tenant, sku) == (stock, stock), "(on_hand, reserved)"
    held = holds_by_reference(engine, tenant)
    assert sum(h.get(sku, 0) for h in held.values()) == stock
    assert findings_for(engine, tenant) == []
    assert cli_check_mentions(engine, tenant) == ""
    return counts


@pytest.fixture
def servers(engine) -> Iterator:
    """`servers(n, **env)` starts n `onhand serve` processes on the test database."""
    started: list[LiveServer] = []

    def start(n: int = 1, **env: str) -> list[LiveServer]:
        url = engine.url.render_as_string(hide_password=False)
        for _ in range(n):
            started.append(LiveServer(url, env))
        return started[-n:]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def hot(api, engine, tenant) -> str:
    """A location, a hot SKU with 100 units, and a storefront token."""
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "HOT", "name": "Limited edition"}))
    receive(api, "HOT", STOCK)
    return make_token(engine, tenant, "storefront")


# ---- (a) threads -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("group_commit", ["true", "false"], ids=["group-commit", "one-by-one"])
def test_320_threads_racing_for_100_units_get_exactly_100(
    engine, tenant, hot, servers, group_commit
):
    [server] = servers(1, ONHAND_GROUP_COMMIT=group_commit)
    bodies = [cart(("HOT", 1), reference=f"r-{n}") for n in range(320)]
    results = race_threads([server.url], tenant, hot, bodies, workers=64)
    assert_exactly_the_stock_granted(results, engine, tenant)


# ---- (b) processes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_330_requests_from_6_processes_racing_for_100_units_get_exactly_100(
    engine, tenant, hot, servers
):
    [server] = servers(1)
    bodies = [cart(("HOT", 1), reference=f"r-{n}") for n in range(6 * 55)]
    results = race_processes(server.url, tenant, hot, bodies, processes=6, threads=8)
    assert_exactly_the_stock_granted(results, engine, tenant)


def assert_kits_whole(
    engine, tenant, bodies, results, kit: str, stock_a: int, stock_b: int
) -> tuple[int, int]:
    """Kits (2 A + 1 B, by reference prefix `kit`) were granted whole or not at all, the single
    A and B holds add up, and every refusal still holds against what is left. Returns the
    free A and B."""
    counts = tally(results)
    print(f"\n{kit} race on {engine.dialect.name}: {dict(counts)}")
    assert set(counts) <= {"granted", "refused"}, counts
    granted = {
        body["reference"]
        for body, (status, _) in zip(bodies, results, strict=True)
        if status == 201
    }
    refused = {
        body["reference"]
        for body, (status, _) in zip(bodies, results, strict=True)
        if status == 409
    }
    kits = {r for r in granted if r.startswith(kit)}
    a_only = {r for r in granted if r.startswith("a-")}
    b_only = {r for r in granted if r.startswith("b-")}
    held = holds_by_reference(engine, tenant)
    assert set(held) == granted
    for ref in kits:
        assert held[ref] == {"A": 2, "B": 1}, f"{ref} half granted: {held[ref]}"
    _, reserved_a = figures(engine, tenant, "A")
    _, reserved_b = figures(engine, tenant, "B")
    assert reserved_a == 2 * len(kits) + len(a_only) <= stock_a
    assert reserved_b == len(kits) + len(b_only) <= stock_b
    # stock only went down during the race, so every refusal still holds at the end
    free_a, free_b = stock_a - reserved_a, stock_b - reserved_b
    if any(r.startswith(kit) for r in refused):
        assert free_a < 2 or free_b < 1
    if any(r.startswith("a-") for r in refused):
        assert free_a < 1
    if any(r.startswith("b-") for r in refused):
        assert free_b < 1
    assert findings_for(engine, tenant) == []
    assert cli_check_mentions(engine, tenant) == ""
    return free_a, free_b


# ---- (c) multi-line carts ----------------------------------------------------------------------


@pytest.mark.slow
def test_carts_of_two_skus_are_granted_whole_or_not_at_all(api, engine, tenant, servers):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    for sku in ("A", "B"):
        created(api.post("/items", json={"sku": sku, "name": sku}))
    receive(api, "A", 100)
    receive(api, "B", 45)
    token = make_token(engine, tenant, "storefront")
    [server] = servers(1)
    bodies = (
        [cart(("A", 2), ("B", 1), reference=f"cart-{n}") for n in range(100)]
        + [cart(("B", 1), ("A", 2), reference=f"cart-r{n}") for n in range(100)]
        + [cart(("A", 1), reference=f"a-{n}") for n in range(60)]
        + [cart(("B", 1), reference=f"b-{n}") for n in range(60)]
    )
    random.Random(3).shuffle(bodies)
    results = race_threads([server.url], tenant, token, bodies, workers=64)
    assert_kits_whole(engine, tenant, bodies, results, "cart", stock_a=100, stock_b=45)


# ---- (d) two servers on one PostgreSQL ---------------------------------------------------------


@pytest.mark.slow
def test_two_servers_on_one_postgres_grant_exactly_the_stock(engine, tenant, hot, servers):
    if db.is_sqlite(engine):
        pytest.skip("several server processes share one database on PostgreSQL")
    first, second = servers(2)
    bodies = [cart(("HOT", 1), reference=f"r-{n}") for n in range(320)]
    results = race_threads([first.url, second.url], tenant, hot, bodies, workers=64)
    assert_exactly_the_stock_granted(results, engine, tenant)
    by_server = Counter((n % 2, outcome(*r)) for n, r in enumerate(results))
    print(f"per server: {dict(by_server)}")
    assert by_server[(0, "granted")] > 0 and by_server[(1, "granted")] > 0, (
        "both servers took part in granting"
    )


# ---- (e) bundles and their components ----------------------------------------------------------


@pytest.mark.slow
def test_bundles_and_their_components_racing_never_oversell_a_component(
    api, engine, tenant, servers
):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    for sku in ("A", "B"):
        created(api.post("/items", json={"sku": sku, "name": sku}))
    created(
        api.post(
            "/items",
            json={
                "sku": "PACK",
                "name": "Kit",
                "kind": "bundle",
                "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
            },
        )
    )
    receive(api, "A", 60)
    receive(api, "B", 40)
    token = make_token(engine, tenant, "storefront")
    [server] = servers(1)
    bodies = (
        [cart(("PACK", 1), reference=f"pack-{n}") for n in range(150)]
        + [cart(("A", 1), reference=f"a-{n}") for n in range(80)]
        + [cart(("B", 1), reference=f"b-{n}") for n in range(80)]
    )
    random.Random(5).shuffle(bodies)
    results = race_threads([server.url], tenant, token, bodies, workers=64)
    free_a, free_b = assert_kits_whole(
        engine, tenant, bodies, results, "pack", stock_a=60, stock_b=40
    )
    pack = api.get("/availability/PACK").json()
    assert pack["available"] == min(free_a // 2, free_b)


# ---- (f) one Idempotency-Key retried concurrently ----------------------------------------------


@pytest.mark.slow
def test_a_retry_storm_with_one_idempotency_key_holds_once(engine, tenant, hot, servers):
    """A client retrying one request 60 times at once (through two servers on PostgreSQL)."""
    count = 2 if not db.is_sqlite(engine) else 1
    urls = [s.url for s in servers(count)]
    body = cart(("HOT", 3), reference="retried")
    results: list[tuple[int, object]] = []
    local = threading.local()
    start = threading.Event()

    def one(n: int) -> tuple[int, object]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                timeout=60,
                headers={"Authorization": f"Bearer {hot}", "Idempotency-Key": "checkout-42"},
            )
        start.wait(30)
        r = local.client.post(f"{urls[n % len(urls)]}/v1/{tenant}/reservations", json=body)
        return r.status_code, _answer(r)

    with ThreadPoolExecutor(30) as pool:
        futures = [pool.submit(one, n) for n in range(60)]
        start.set()
        done, not_done = wait(futures, timeout=RACE_SECONDS)
        assert not not_done
        results = [f.result() for f in futures]
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({201: 60}), [doc for status, doc in results if status != 201][:3]
    assert len({doc["id"] for _, doc in results}) == 1, "every retry answers the first hold"
    assert figures(engine, tenant, "HOT") == (STOCK, 3)
    assert holds_by_reference(engine, tenant) == {"retried": {"HOT": 3}}
    assert findings_for(engine, tenant) == []


# ---- (g) commits racing the sweeper ------------------------------------------------------------


@pytest.mark.slow
def test_commits_racing_the_sweeper_end_either_committed_or_expired(engine, tenant, hot, servers):
    """Holds of one second, each committed around its expiry while the sweepers run (two
    servers, so two sweepers, on PostgreSQL)."""
    urls = [s.url for s in servers(1 if db.is_sqlite(engine) else 2)]
    headers = {"Authorization": f"Bearer {hot}"}
    clients = [httpx.Client(timeout=60, headers=headers) for _ in range(41)]

    def commit(n: int, res: dict) -> tuple[int, object]:
        """Commit around the hold's own expiry: from 0.4 s before to 0.3 s after."""
        expires = datetime.fromisoformat(res["expires_at"].replace("Z", "+00:00"))
        at = expires + timedelta(seconds=-0.4 + (n % 8) * 0.1)
        time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
        r = clients[n].post(f"{urls[n % len(urls)]}/v1/{tenant}/reservations/{res['id']}/commit")
        return r.status_code, _answer(r)

    made, pending = [], []
    try:
        with ThreadPoolExecutor(40) as pool:
            for n in range(40):  # each commit is scheduled as soon as its hold exists
                r = clients[40].post(
                    f"{urls[0]}/v1/{tenant}/reservations",
                    json={**cart(("HOT", 2), reference=f"h-{n}"), "ttl_seconds": 1},
                )
                assert r.status_code == 201, r.text
                made.append(r.json())
                pending.append(pool.submit(commit, n, made[-1]))
            done, not_done = wait(pending, timeout=RACE_SECONDS)
            assert not not_done
            answers = [f.result() for f in pending]
    finally:
        for c in clients:
            c.close()
    print(
        f"\ncommit vs sweeper on {engine.dialect.name}: "
        f"{dict(Counter(status for status, _ in answers))}"
    )
    assert {status for status, _ in answers} <= {200, 409}, answers
    # let the sweeper finish every lapsed hold (bounded)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with db.read(engine) as conn:
            statuses = dict(
                conn.execute(
                    sa.select(reservations.c.id, reservations.c.status).where(
                        reservations.c.tenant_id == tenant
                    )
                ).all()
            )
        if "active" not in statuses.values():
            break
        time.sleep(0.1)
    for res, (status, doc) in zip(made, answers, strict=True):
        if status == 200:
            assert statuses[res["id"]] == "committed" and doc["status"] == "committed"
        else:
            assert doc["type"].endswith("/reservation-ended"), doc
            assert statuses[res["id"]] == "expired", (res["id"], statuses[res["id"]])
    sold = sum(status == 200 for status, _ in answers)
    with db.read(engine) as conn:
        reserved, committed = conn.execute(
            sa.select(balances.c.reserved, balances.c.committed).where(
                balances.c.tenant_id == tenant
            )
        ).one()
    assert (reserved, committed) == (0, 2 * sold)
    assert findings_for(engine, tenant) == []


# ---- (h) commit and release of the same hold at once ---------------------------------------------


@pytest.mark.slow
def test_commit_and_release_of_one_hold_at_once_exactly_one_wins(engine, tenant, hot, servers):
    urls = [s.url for s in servers(1 if db.is_sqlite(engine) else 2)]
    headers = {"Authorization": f"Bearer {hot}"}
    with httpx.Client(timeout=60, headers=headers) as c:
        made = [
            created(
                c.post(
                    f"{urls[0]}/v1/{tenant}/reservations", json=cart(("HOT", 1), reference=f"h-{n}")
                )
            )
            for n in range(30)
        ]
    jobs = [
        (res["id"], action, k) for k, res in enumerate(made) for action in ("commit", "release")
    ]
    results = race_threads(
        urls,
        tenant,
        hot,
        [None] * len(jobs),
        workers=60,
        paths=[f"reservations/{rid}/{action}" for rid, action, _ in jobs],
    )
    with db.read(engine) as conn:
        statuses = dict(
            conn.execute(
                sa.select(reservations.c.id, reservations.c.status).where(
                    reservations.c.tenant_id == tenant
                )
            ).all()
        )
    outcomes = Counter()
    for n in range(0, len(jobs), 2):
        rid = jobs[n][0]
        (c_status, c_doc), (r_status, r_doc) = results[n], results[n + 1]
        assert {c_status, r_status} == {200, 409}, (c_doc, r_doc)
        winner = "committed" if c_status == 200 else "released"
        assert statuses[rid] == winner
        outcomes[winner] += 1
    print(f"\ncommit vs release on {engine.dialect.name}: {dict(outcomes)}")
    with db.read(engine) as conn:
        reserved, committed = conn.execute(
            sa.select(balances.c.reserved, balances.c.committed).where(
                balances.c.tenant_id == tenant
            )
        ).one()
    assert (reserved, committed) == (0, outcomes["committed"])
    assert findings_for(engine, tenant) == []

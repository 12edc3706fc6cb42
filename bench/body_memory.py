"""Memory of a real `onhand serve` when clients send huge bodies.

    python bench/body_memory.py --mb 100 --json

Starts `onhand serve` on a fresh SQLite file twice: once with the default body limit (1 MiB)
and once with the limit raised above the body size (the baseline: what happened before bodies
were capped). Each time it sends one body of `--mb` MB without a token and one with a
storefront token to POST /reservations, and reports the server's resident memory (VmRSS)
before and after. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from onhand import auth, db, schema

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def send(port: int, path: str, token: str | None, size: int) -> str:
    """A JSON array of `size` bytes with Content-Length; the status line the server answered."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    head.append(f"Content-Length: {size}")
    piece = b"[" + b"1," * (512 * 1024)
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < size:
                data = piece[: size - sent]
                sock.sendall(data)
                sent += len(data)
        except OSError:
            pass
        try:
            while b"\r\n" not in answer and (chunk := sock.recv(65536)):
                answer += chunk
        except OSError:
            pass
    return answer.split(b"\r\n", 1)[0].decode(errors="replace")


def run(db_url: str, tenant: str, token: str, size: int, limit: int | None) -> dict[str, object]:
    port = free_port()
    env = {**os.environ, "ONHAND_DATABASE_URL": db_url, "ONHAND_RUN_JOBS": "false"}
    if limit:
        env["ONHAND_MAX_BODY_BYTES"] = str(limit)
    proc = subprocess.Popen(
        [sys.executable, "-m", "onhand.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for _ in range(3):
            send(port, f"/v1/{tenant}/reservations", token, 10_000)
        time.sleep(0.5)
        before = rss_mib(proc.pid)
        anonymous = send(port, f"/v1/{tenant}/reservations", None, size)
        after_anonymous = rss_mib(proc.pid)
        with_token = send(port, f"/v1/{tenant}/reservations", token, size)
        time.sleep(0.5)
        after = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "limit_bytes": limit or 1_048_576,
        "rss_before_mib": round(before, 1),
        "anonymous": anonymous,
        "rss_after_anonymous_mib": round(after_anonymous, 1),
        "storefront": with_token,
        "rss_after_storefront_mib": round(after, 1),
        "grown_mib": round(after - before, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    size = args.mb * MB
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = db.make_engine(url)
        schema.upgrade(engine)
        with db.write(engine) as conn:
            token = auth.create_token(conn, "bench", ["storefront"]).token
        engine.dispose()
        result = {
            "body_mb": args.mb,
            "capped": run(url, "bench", token, size, None),
            "baseline_uncapped": run(url, "bench", token, size, size * 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

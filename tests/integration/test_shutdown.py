"""A real `onhand serve` with live clients connected stops cleanly on SIGTERM and on Ctrl-C.

Before, an open SSE stream kept the server waiting for it: SIGTERM hung (or, at best, cancelled
the stream after 5 s and printed a traceback), a second signal was ignored, and the process
ended by re-raising the signal instead of exiting 0.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time

import pytest
import websockets
from eventkit import SSEReader, eventually

from conftest import LiveServer, make_token

# A stop that ends the streams at once takes well under a second; this only bounds a hang.
STOP_WITHIN = 20.0


def _websocket_until_closed(url: str, closed: dict[str, object]) -> threading.Thread:
    async def listen() -> None:
        async with websockets.connect(url) as ws:
            closed["open"] = True
            try:
                async for _ in ws:
                    pass
            except websockets.ConnectionClosed:
                pass
            closed["code"] = ws.close_code

    thread = threading.Thread(target=lambda: asyncio.run(listen()), daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_stops_with_sse_and_websocket_clients_connected(engine, tenant, sig):
    server = LiveServer(engine.url.render_as_string(hide_password=False))
    try:
        token = make_token(engine, tenant, "admin")
        readers = [
            SSEReader(f"{server.url}/v1/{tenant}/events", {"Authorization": f"Bearer {token}"})
            for _ in range(2)
        ]
        assert all(r.status == 200 for r in readers)
        ws_state: dict[str, object] = {}
        ws_url = f"ws://127.0.0.1:{server.port}/v1/{tenant}/ws?access_token={token}"
        ws_thread = _websocket_until_closed(ws_url, ws_state)
        eventually(lambda: ws_state.get("open"))

        started = time.monotonic()
        server.proc.send_signal(sig)
        try:
            code = server.proc.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_WITHIN} s after {sig!r}:\n{server.log.read_text()}")
        took = time.monotonic() - started
    finally:
        server.stop()
    log = server.log.read_text()
    assert code == 0, f"exit code {code} after {took:.1f} s:\n{log[-3000:]}"
    assert "Traceback" not in log, log[-3000:]
    assert "timeout graceful shutdown exceeded" not in log, log[-3000:]
    for reader in readers:
        # The stream ended with the server's last word, not with a reset connection.
        reader.thread.join(5)
        assert not reader.thread.is_alive()
        assert reader.error is None, reader.error
        assert any("server is stopping" in c for c in reader.comments), reader.comments
    ws_thread.join(5)
    assert ws_state.get("code") == 1001, ws_state

"""Every `onhand` command, `--help` included, imports onhand.cli: it must stay light.

The services (FastAPI, Alembic, SQLAlchemy, NumPy, httpx) are imported by the commands that
use them; importing them at the top of the CLI's modules cost every command about a second.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

HEAVY = ("fastapi", "alembic", "numpy", "sqlalchemy", "httpx")


def _heavy_after(code: str, **env: str) -> list[str]:
    probe = f"{code}; import sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **env},
    )
    return list(ast.literal_eval(done.stdout.strip()))


def test_importing_the_cli_imports_none_of_the_services_heavy_libraries():
    assert _heavy_after("import onhand.cli") == []


def test_the_settings_every_command_reads_first_bring_no_http_client():
    # main() reads them before any command; netguard (httpx) only checks a list that is set.
    reading = "from onhand.settings import get_settings; get_settings()"
    assert _heavy_after(reading, ONHAND_ALLOW_PRIVATE_NETWORKS="") == []
    assert "httpx" in _heavy_after(reading, ONHAND_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8")

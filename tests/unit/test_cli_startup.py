"""Every `onhand` command, `--help` included, imports onhand.cli: it must stay light.

The services (FastAPI, Alembic, SQLAlchemy, NumPy, httpx) are imported by the commands that
use them; importing them at the top of the CLI's modules cost every command about a second.
"""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = ("fastapi", "alembic", "numpy", "sqlalchemy", "httpx")


def test_importing_the_cli_imports_none_of_the_services_heavy_libraries():
    probe = f"import onhand.cli, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ast.literal_eval(done.stdout.strip()) == []

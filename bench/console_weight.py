"""Page weight of the admin console: every JS and CSS file it can load, gzipped, as JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "src" / "onhand" / "web" / "static"


def main() -> None:
    files = sorted(
        p for p in STATIC.rglob("*") if p.suffix in (".js", ".css") and p.name != "badge.js"
    )
    sizes = {
        str(p.relative_to(STATIC)): {
            "bytes": p.stat().st_size,
            "gzip": len(gzip.compress(p.read_bytes(), 9)),
        }
        for p in files
    }
    vendor = sum(v["gzip"] for k, v in sizes.items() if k.startswith("vendor/"))
    total = sum(v["gzip"] for v in sizes.values())
    print(
        json.dumps(
            {
                "files": len(sizes),
                "gzip_total": total,
                "gzip_console_own": total - vendor,
                "gzip_vendor": vendor,
                "bytes_total": sum(v["bytes"] for v in sizes.values()),
                "by_file": sizes,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

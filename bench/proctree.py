"""A process and its descendants, read from /proc (a server's workers are its children)."""

from __future__ import annotations

from pathlib import Path


def stats() -> dict[int, list[str]]:
    """Every process's /proc/<pid>/stat fields after the command name (field 3 onwards)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
    return out


def tree(root: int, fields: dict[int, list[str]]) -> set[int]:
    """`root` and every process below it."""
    parents = {pid: int(f[1]) for pid, f in fields.items()}
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found

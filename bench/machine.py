"""The machine a bench ran on, as one line for BENCHMARKS.md (shared by every bench script)."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def describe(*extras: str) -> str:
    """CPU count and model, RAM, Python and SQLite versions, `extras` (library versions), load average now."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    parts = [f"{os.cpu_count()} CPUs ({cpu})", f"{ram:.1f} GiB RAM", f"Python {platform.python_version()}"]
    parts += [f"SQLite {sqlite3.sqlite_version}", *extras]
    return f"{', '.join(parts)}; load average {load}"

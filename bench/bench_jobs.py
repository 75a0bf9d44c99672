"""One scheduled job alone on a copy of the mixed bench's 10⁶-initiative database: how many write
transactions it takes, how long it holds the write lock in all, and its wall time.

The counts do not depend on the host's load (the wall times do): every write transaction a job
takes is a turn at the one writer that the people's answers wait behind.

    .venv/bin/python bench/bench_jobs.py leaderboard reviewer_digest admin_report \
        --cache-dir /work/wt/bench/data/bench

Run it from the root of the worktree under test; the database is the one `bench_mixed.py --prepare`
leaves in `--cache-dir` (built or upgraded there if absent).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # the data's "now", as in bench_mixed


def load_sibling(name: str) -> Any:
    """A module of `bench/` next to this script."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run_job(name: str, path: Path) -> dict[str, Any]:
    """Run job `name` on the database at `path`, counting its write transactions."""
    from bot import app as composition
    from bot.config import load_config

    env = {"SANGKIEN_DATABASE_URL": f"sqlite+aiosqlite:///{path}", "SANGKIEN_TELEGRAM_TOKEN": "1:BENCH"}
    config = load_config(ROOT / "bot.toml", env={**env, "SANGKIEN_ADMINS": "900000001"})
    origin = time.perf_counter()

    def clock() -> datetime:
        """The data's "now", moving with real time."""
        return NOW + timedelta(seconds=time.perf_counter() - origin)

    runtime = await composition.open_runtime(config, clock=clock)
    database = runtime.store.database
    begin = database.begin
    writes = {"transactions": 0, "inside_s": 0.0, "longest_ms": 0.0}

    @asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        async with begin() as conn:
            began = time.perf_counter()
            yield conn
        inside = time.perf_counter() - began
        writes["transactions"] += 1
        writes["inside_s"] += inside
        writes["longest_ms"] = max(writes["longest_ms"], inside * 1000)

    database.begin = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    report = await runtime.jobs.run(name)
    wall = time.perf_counter() - started
    await runtime.close()
    return {
        "job": name,
        "wall_s": round(wall, 1),
        "write_transactions": writes["transactions"],
        "inside_write_s": round(writes["inside_s"], 1),
        "longest_write_ms": round(writes["longest_ms"], 1),
        "queued": (report or {}).get("queued"),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    """Each job on a fresh copy of the cached database, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jobs", nargs="+")
    parser.add_argument("--cache-dir", type=Path, default=Path("data/bench"))
    args = parser.parse_args()
    mixed = load_sibling("bench_mixed")
    pristine = mixed.cache_path(args.cache_dir, 1_000_000, 200_000, 5_000)
    if not pristine.exists():
        sys.exit(f"{pristine} is missing: run bench/bench_mixed.py --prepare --cache-dir {args.cache_dir} first")
    for name in args.jobs:
        work = pristine.with_name(f"jobs-{os.getpid()}.db")
        shutil.copyfile(pristine, work)
        try:
            result = asyncio.run(run_job(name, work))
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work}{suffix}").unlink(missing_ok=True)
        result["code"] = os.popen("git rev-parse --short HEAD").read().strip()
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""A throwaway PostgreSQL server for the benchmarks: the tests' one (tests/postgresql_server.py),
but with fsync on, so every commit reaches the disk as in production."""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from pathlib import Path

from sqlalchemy.engine import URL

from tests.postgresql_server import Server, programs


class DurableServer(Server):
    """One PostgreSQL cluster, Unix socket only, fsync on: in a temporary folder, or kept in `keep`
    from one run to the next (a 10⁶-initiative database takes minutes to load)."""

    def __init__(self, bin_dir: Path, keep: Path | None = None) -> None:
        super().__init__(bin_dir)
        self.keep = keep
        if keep is not None:
            self.data = keep
            if not keep.exists():
                keep.mkdir(parents=True, mode=0o700)
                if os.geteuid() == 0:
                    account = pwd.getpwnam("postgres")
                    os.chown(keep, account.pw_uid, account.pw_gid)

    def start(self) -> URL:
        """Create the cluster (unless kept from an earlier run) and start the server; the URL of
        its `postgres` database."""
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses='' -c shared_buffers=256MB"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        query = {"host": str(self.folder), "port": str(self.port)}
        return URL.create("postgresql+asyncpg", username="postgres", database="postgres", query=query)

    def stop(self) -> None:
        """Stop the server; delete its folder, and its data unless kept."""
        if self.keep is None:
            super().stop()
            return
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def durable_server(keep: Path | None = None) -> DurableServer:
    """A server built from the machine's PostgreSQL programs (exits with a message if there are none);
    its cluster kept in `keep` if given."""
    bin_dir = programs()
    if bin_dir is None:
        sys.exit("no PostgreSQL programs (initdb, pg_ctl) found: install PostgreSQL or give --database-url")
    return DurableServer(bin_dir, keep)

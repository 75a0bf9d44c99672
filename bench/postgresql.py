"""A throwaway PostgreSQL server for the benchmarks: the tests' one (tests/postgresql_server.py),
but with fsync on, so every commit reaches the disk as in production."""

from __future__ import annotations

import sys

from sqlalchemy.engine import URL

from tests.postgresql_server import Server, programs


class DurableServer(Server):
    """One PostgreSQL cluster in a temporary folder, Unix socket only, fsync on."""

    def start(self) -> URL:
        """Create the cluster and start the server; the URL of its `postgres` database."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses='' -c shared_buffers=256MB"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        query = {"host": str(self.folder), "port": str(self.port)}
        return URL.create("postgresql+asyncpg", username="postgres", database="postgres", query=query)


def durable_server() -> DurableServer:
    """A server built from the machine's PostgreSQL programs (exits with a message if there are none)."""
    bin_dir = programs()
    if bin_dir is None:
        sys.exit("no PostgreSQL programs (initdb, pg_ctl) found: install PostgreSQL or give --database-url")
    return DurableServer(bin_dir)

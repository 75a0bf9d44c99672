"""A throwaway PostgreSQL server for the tests, run from the machine's PostgreSQL programs.

The server listens only on a Unix socket in its own temporary folder, without fsync, and is
stopped at the end of the session. As root it runs as the `postgres` account (PostgreSQL refuses
root). `SANGKIEN_TEST_POSTGRESQL_URL` points the tests at a server of your own instead.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url


def programs() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: on the PATH, else the newest Debian install."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return installed[-1].parent if installed else None


def _free_port() -> int:
    """A port number nobody listens on (it only names the socket file)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One PostgreSQL cluster in a temporary folder."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="sangkien-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")  # KeyError: no account to run the server as
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, program: str, *args: str) -> None:
        """Run one of the server's programs as the account that owns the cluster."""
        command = [*self.run_as, str(self.bin_dir / program), *args]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> URL:
        """Create the cluster and start the server; the URL of its `postgres` database."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        query = {"host": str(self.folder), "port": str(self.port)}
        return URL.create("postgresql+asyncpg", username="postgres", database="postgres", query=query)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def create_database(server: URL, name: str, template: str | None = None) -> str:
    """Create database `name` (a copy of `template` if given) and return its URL."""

    async def create() -> None:
        dsn = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            copy = f" TEMPLATE {template}" if template else ""
            await conn.execute(f"CREATE DATABASE {name}{copy}")
        finally:
            await conn.close()

    asyncio.run(create())
    return server.set(database=name).render_as_string(hide_password=False)


def server_url_from_env() -> URL | None:
    """The server named by `SANGKIEN_TEST_POSTGRESQL_URL`, if set."""
    value = os.environ.get("SANGKIEN_TEST_POSTGRESQL_URL")
    return make_url(value) if value else None

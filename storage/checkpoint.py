"""WAL checkpoints in a background thread, so that no commit on the event loop pays for one.

With SQLite's automatic checkpoint, the commit that crosses 1,000 WAL pages copies them into the
database file and syncs it: 13–17 ms on the bench machine, once every 80 updates or so, on the
event loop. Here the bot's connection has automatic checkpoints switched off and a thread with its
own connection runs a PASSIVE checkpoint (which never blocks the writer) twice a second; the sqlite3
module releases the GIL while SQLite works, so the copy runs beside the bot. A checkpoint changes
nothing about durability: every commit is already in the WAL.

A passive checkpoint never lets the WAL start over while the bot keeps writing: the log is reused
from its start only once every frame is copied, and under steady load new commits always arrive
first, so the file grew without end (400 MB after 17,600 updates of the bench). Once the log holds
`restart_frames` frames the thread raises `restart_wanted`, and the bot's own connection, between
two transactions, runs a TRUNCATE checkpoint (`restart`): it copies the few frames the passive pass
left and empties the file, a few milliseconds on the event loop every 32 MB of WAL. (From this
thread the same checkpoint would starve: it needs a moment with no writer, and the bot begins the
next transaction as soon as the last one commits.)
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class Checkpointer:
    """A daemon thread checkpointing one SQLite file's WAL."""

    def __init__(self, path: str, *, interval: float = 0.5, restart_frames: int = 8192) -> None:
        self.path = path
        self.interval = interval
        self.restart_frames = restart_frames  # 32 MB of 4 KiB pages
        self.restart_wanted = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Checkpoint every `interval` seconds until stopped."""
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self.interval):
                try:
                    _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= self.restart_frames:
                        self.restart_wanted = True
                except sqlite3.Error:
                    log.warning("WAL checkpoint of %s failed; the next one retries", self.path, exc_info=True)
        finally:
            connection.close()

    def restart(self, writer: sqlite3.Connection, *, patience_ms: int = 20) -> bool:
        """Empty the WAL from the writer's connection, outside any transaction of it; True if done.

        It waits at most `patience_ms` for other connections (the writer's own busy timeout is
        seconds): a `sangkien` command reading in another process must not hold the event loop.
        """
        self.restart_wanted = False
        (usual,) = writer.execute("PRAGMA busy_timeout").fetchone()
        try:
            writer.execute(f"PRAGMA busy_timeout={int(patience_ms)}")
            busy, _frames, _copied = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:  # the transaction about to begin matters more; the next pass asks again
            log.warning("WAL of %s could not be restarted", self.path, exc_info=True)
            return False
        finally:
            writer.execute(f"PRAGMA busy_timeout={int(usual)}")
        if busy:
            log.info("WAL of %s not restarted (another connection held it); the next pass asks again", self.path)
        return not busy

    def stop(self) -> None:
        """Stop the thread (the last connection to close checkpoints what is left)."""
        self._stop.set()
        self._thread.join()

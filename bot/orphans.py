"""Worker processes (charts, jobs) end when the process that started them is gone, even by SIGKILL."""

from __future__ import annotations

import os
import threading
import time

CHECK_EVERY = 1.0  # seconds between two looks at the parent


def exit_with_parent() -> None:
    """In a worker process: end it once its parent has died (a killed parent leaves its workers
    waiting on their pipes for ever, holding whatever they inherited)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(CHECK_EVERY)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()

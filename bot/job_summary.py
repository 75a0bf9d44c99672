"""What `sangkien jobs run` tells the operator: what a run queued, who got nothing, when held messages go."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import local
from bot.config import Config
from bot.i18n import Msg
from bot.messages import Reply


def run_summary(config: Config, name: str, report: dict[str, Any] | None) -> list[Reply]:
    """The outcome of running job `name` by hand (`report` is None when that minute's run already happened)."""
    job = Msg(f"jobs.name_{name}")
    if report is None:
        return [Reply("jobs.run_already", {"job": job})]
    counts = {key: int(report.get(key, 0)) for key in ("queued", "repeated", "skipped")}
    replies = [Reply("jobs.run_done", {"job": job, **counts})]
    if name == "admin_report" and not config.bot.admins:
        replies.append(Reply("jobs.run_no_admin"))
    if report.get("held_until") and counts["queued"]:
        when = local(datetime.fromisoformat(report["held_until"]), config.bot.timezone)
        replies.append(Reply("jobs.run_held", {"when": when}))
    return replies


def sent_summary(sent: int, failed: int, blocked: int, retrying: int) -> Reply:
    """What `--send` delivered now."""
    return Reply("jobs.run_sent", {"sent": sent, "failed": failed, "blocked": blocked, "retrying": retrying})

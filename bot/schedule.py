"""Cron schedules in the configured time zone: next run, and the one missed run to make up."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


def trigger(cron: str, timezone: str) -> CronTrigger:
    """An APScheduler cron trigger from a crontab expression (minute hour day month weekday)."""
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def next_fire(cron: str, timezone: str, after: datetime) -> datetime | None:
    """The first run strictly after `after`."""
    return trigger(cron, timezone).get_next_fire_time(None, after + timedelta(microseconds=1))


def latest_fire(cron: str, timezone: str, now: datetime, *, within: timedelta) -> datetime | None:
    """The latest scheduled run in (now - within, now], if any."""
    cursor, latest = now - within, None
    while True:
        fire = next_fire(cron, timezone, cursor)
        if fire is None or fire > now:
            return latest
        latest, cursor = fire, fire


def missed_run(
    cron: str, timezone: str, now: datetime, *, grace: timedelta, last_run: datetime | None
) -> datetime | None:
    """The run to make up after downtime: the latest one within the grace time not yet done, or None."""
    fire = latest_fire(cron, timezone, now, within=grace)
    if fire is None or (last_run is not None and last_run >= fire):
        return None
    return fire

"""Queries of the scheduled jobs: job runs, and the people and initiatives reminders are about."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, cast, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain import Initiative, RegStep, Status, User
from bot.workflow import OPEN
from storage.rows import Queries, initiatives, metadata, to_initiative, to_user, units, users

runs = metadata.tables["job_run"]
NEW_RUN = {
    "sqlite": sqlite_insert(runs).on_conflict_do_nothing().returning(runs.c.id),
    "postgresql": postgresql_insert(runs).on_conflict_do_nothing().returning(runs.c.id),
}
OPEN_VALUES = [status.value for status in OPEN]
PAGE = 200  # rows turned into initiatives between two turns of the event loop


def _reachable() -> list[Any]:
    """Registered people the bot may message (not deleted, not blocked)."""
    return [users.c.reg_step == RegStep.DONE.value, users.c.deleted.is_(False), users.c.blocked_at.is_(None)]


def reported_runs(dialect: str) -> Select[tuple[int]]:
    """The ids of runs whose delivery report went out (`mark_reported` sets "reported" in the JSON report)."""
    if dialect == "postgresql":
        return select(runs.c.id).where(cast(runs.c.report, JSONB)["reported"].astext == "true")
    return select(runs.c.id).where(func.json_extract(runs.c.report, "$.reported") == 1)


class JobQueries(Queries):
    """Job runs and the selections jobs work on."""

    async def claim_run(
        self, job: str, scheduled_for: datetime, *, now: datetime, owner: str, lease_until: datetime
    ) -> int | None:
        """Claim the run of `job` for `scheduled_for` for `owner` until `lease_until`; None when that
        run finished, or another process holds it and its lease has not ended. A run whose holder
        died half-way is handed out again once its lease ends, to finish (its messages are keyed)."""
        claim = {"claimed_by": owner, "lease_until": lease_until}
        values = {"job": job, "scheduled_for": scheduled_for, "started_at": now, **claim}
        created = (await self.conn.execute(NEW_RUN[self.dialect], values)).scalar()
        if created is not None:
            return int(created)
        take_over = (
            update(runs)
            .where(
                runs.c.job == job,
                runs.c.scheduled_for == scheduled_for,
                runs.c.finished_at.is_(None),
                or_(runs.c.lease_until.is_(None), runs.c.lease_until <= now),
            )
            .values(claim)
            .returning(runs.c.id)
        )
        taken = (await self.conn.execute(take_over)).scalar()
        return None if taken is None else int(taken)

    async def renew_run(self, run_id: int, *, owner: str, lease_until: datetime) -> bool:
        """Extend `owner`'s lease on a run; False if another process took it over."""
        stmt = update(runs).where(runs.c.id == run_id, runs.c.claimed_by == owner).values(lease_until=lease_until)
        return bool((await self.conn.execute(stmt)).rowcount)

    async def finish_run(self, run_id: int, report: dict[str, Any], *, now: datetime) -> None:
        """Close a run with its report."""
        stmt = (
            update(runs).where(runs.c.id == run_id).values(finished_at=now, report=json.dumps(report), lease_until=None)
        )
        await self.conn.execute(stmt)

    async def unreported_runs(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Finished runs whose delivery report has not gone out yet: (id, job, report)."""
        stmt = select(runs.c.id, runs.c.job, runs.c.report).where(runs.c.finished_at.is_not(None))
        rows = await self.conn.execute(stmt.order_by(runs.c.id.desc()).limit(50))
        result = []
        for run_id, job, report in rows:
            data = json.loads(report or "{}")
            if not data.get("reported"):
                result.append((run_id, job, data))
        return result

    async def mark_reported(self, run_id: int, report: dict[str, Any]) -> None:
        """Remember that a run's delivery report went out."""
        stmt = update(runs).where(runs.c.id == run_id).values(report=json.dumps({**report, "reported": True}))
        await self.conn.execute(stmt)

    async def last_run(self, job: str) -> datetime | None:
        """When the latest finished run of `job` was scheduled for."""
        stmt = select(func.max(runs.c.scheduled_for)).where(runs.c.job == job, runs.c.finished_at.is_not(None))
        return (await self.conn.execute(stmt)).scalar()

    async def reachable_users(self, *, after_id: int, limit: int, reminders: bool = False) -> list[User]:
        """Registered people the bot may message, by id (only those who accept reminders if asked)."""
        where = [*_reachable(), users.c.id > after_id]
        if reminders:
            where.append(users.c.reminders_off.is_(False))
        rows = await self.conn.execute(select(users).where(*where).order_by(users.c.id).limit(limit))
        return [to_user(r) for r in rows]

    async def idle_drafts(
        self, *, before: datetime, since: datetime, status: Status = Status.DRAFT
    ) -> list[tuple[Initiative, User]]:
        """Drafts (or initiatives in another `status`, e.g. waiting for the author's changes) last
        touched between `since` and `before`, with their authors (who accept reminders)."""
        stmt = (
            select(initiatives, users.c.id.label("u_id"))
            .join(users, users.c.id == initiatives.c.author_id)
            .where(
                initiatives.c.status == status.value,
                initiatives.c.updated_at < before,
                initiatives.c.updated_at >= since,
                *_reachable(),
                users.c.reminders_off.is_(False),
            )
        )
        result = []
        for row in (await self.conn.execute(stmt)).all():
            user = await self.user_for_job(row.u_id)
            result.append((to_initiative(row), user))
        return result

    async def user_for_job(self, user_id: int) -> User:
        """A person by id (who must exist)."""
        return to_user((await self.conn.execute(select(users).where(users.c.id == user_id))).one())

    async def idle_authors(self, campaign_key: str, *, since: datetime, after_id: int, limit: int) -> list[User]:
        """People accepting reminders who submitted nothing to the campaign since `since`."""
        submitted = exists().where(
            initiatives.c.author_id == users.c.id,
            initiatives.c.campaign_key == campaign_key,
            initiatives.c.submitted_at >= since,
        )
        stmt = select(users).where(*_reachable(), users.c.reminders_off.is_(False), users.c.id > after_id, ~submitted)
        rows = await self.conn.execute(stmt.order_by(users.c.id).limit(limit))
        return [to_user(r) for r in rows]

    async def waiting_since(self, *, before: datetime, since: datetime) -> list[Initiative]:
        """Open initiatives queued at their current unit between `since` and `before` (to escalate),
        fetched a page at a time (the event loop runs between pages)."""
        stmt = select(initiatives).where(
            initiatives.c.status.in_(OPEN_VALUES), initiatives.c.queued_at < before, initiatives.c.queued_at >= since
        )
        found: list[Initiative] = []
        result = await self.conn.stream(stmt.order_by(initiatives.c.queued_at))
        async for rows in result.partitions(PAGE):
            found.extend(to_initiative(r) for r in rows)
        return found

    async def progress_counts(self, campaign_key: str) -> dict[int, dict[str, int]]:
        """Per unit of submission: submitted, recognised, applied, and authors with a recognised one."""
        where = [
            initiatives.c.campaign_key == campaign_key,
            initiatives.c.status.notin_([Status.DRAFT.value, Status.WITHDRAWN.value]),
            initiatives.c.unit_id.is_not(None),
        ]
        counts = select(
            initiatives.c.unit_id,
            func.count().label("submitted"),
            func.count(initiatives.c.recognised_level).label("recognised"),
            func.count(initiatives.c.applied_at).label("applied"),
        ).where(*where)
        result: dict[int, dict[str, int]] = {}
        for r in await self.conn.execute(counts.group_by(initiatives.c.unit_id)):
            result[r.unit_id] = {"submitted": r.submitted, "recognised": r.recognised, "applied": r.applied}
        authors = select(initiatives.c.unit_id, func.count(func.distinct(initiatives.c.author_id)).label("n")).where(
            *where, initiatives.c.recognised_level.is_not(None)
        )
        for r in await self.conn.execute(authors.group_by(initiatives.c.unit_id)):
            result[r.unit_id]["recognised_authors"] = r.n
        return result

    async def all_units(self) -> list[tuple[int, str, str, int | None, str, int]]:
        """(id, code, name, parent id, sector, headcount) of every unit."""
        stmt = select(units.c.id, units.c.code, units.c.name, units.c.parent_id, units.c.sector, units.c.headcount)
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in await self.conn.execute(stmt.order_by(units.c.id))]

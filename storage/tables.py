"""Database tables, declared with sqlmodel; every other module reaches them through storage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class UnitRow(SQLModel, table=True):
    """A union unit in the hierarchy."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=300)
    name_folded: str = Field(max_length=300, index=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    sector: str = Field(default="enterprise", max_length=20)
    level: str = Field(default="grassroots", max_length=20)
    headcount: int = 0
    review_mode: str = Field(default="single", max_length=10)
    quorum: int = 1
    review_chat: str | None = Field(default=None, max_length=64)
    covers_below: bool = False


class UserRow(SQLModel, table=True):
    """A person on one channel, with registration progress."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_user_channel_external"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    locale: str = Field(default="vi", max_length=8)
    reg_step: str = Field(default="language", max_length=16)
    full_name: str | None = Field(default=None, max_length=200)
    name_folded: str | None = Field(default=None, max_length=200, index=True)
    phone: str | None = Field(default=None, max_length=20, index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    consent_at: datetime | None = None
    pending_unit_code: str | None = Field(default=None, max_length=32)
    editing_profile: bool = False
    username: str | None = Field(default=None, max_length=64, index=True)
    awaiting: str | None = Field(default=None, max_length=64)
    step_keyboard: str | None = Field(default=None, max_length=90)  # "chat:message id" of the last step's buttons
    reminders_off: bool = False
    leaderboard_off: bool = False
    blocked_at: datetime | None = None
    deleted: bool = False
    last_channel: str | None = Field(default=None, max_length=16)  # the app written from last (None: its own)
    created_at: datetime
    updated_at: datetime


class InitiativeRow(SQLModel, table=True):
    """An initiative; while its status is `draft` the `step` column says which field comes next."""

    __tablename__ = "initiative"
    __table_args__ = (
        Index("ix_initiative_author_status", "author_id", "status", "id"),
        Index("ix_initiative_status_submitted", "status", "submitted_at"),
        Index("ix_initiative_campaign_status", "campaign_key", "status"),
        Index("ix_initiative_queue", "review_unit_id", "status", "queued_at"),
        Index("ix_initiative_campaign_id", "campaign_key", "id"),
        # The leaderboard's events of a week, read from the index alone (storage/leaderboard.py).
        Index("ix_initiative_campaign_submitted", "campaign_key", "submitted_at", "author_id", "unit_id", "status"),
        Index(
            "ix_initiative_campaign_decided",
            "campaign_key",
            "decided_at",
            "recognised_level",
            "author_id",
            "unit_id",
            "status",
        ),
        Index("ix_initiative_campaign_applied", "campaign_key", "applied_at", "author_id", "unit_id", "status"),
        Index(
            "uq_initiative_one_draft",
            "author_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=20, unique=True)
    campaign_key: str = Field(max_length=32)
    author_id: int = Field(foreign_key="app_user.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    status: str = Field(default="draft", max_length=20)
    step: str = Field(default="title", max_length=20)
    editing: bool = False
    title: str | None = Field(default=None, max_length=200)
    title_folded: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=24)
    kind: str | None = Field(default=None, max_length=16)
    problem: str | None = Field(default=None, sa_column=Column(Text))
    solution: str | None = Field(default=None, sa_column=Column(Text))
    benefit: str | None = Field(default=None, sa_column=Column(Text))
    benefit_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    applied_since: date | None = None
    applied_month_only: bool = False
    author_percent: int = 100
    conditions: str | None = Field(default=None, sa_column=Column(Text))
    confidential: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    decision_due: date | None = None
    version: int = 0
    review_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    review_level: str | None = Field(default=None, max_length=20)
    recognised_level: str | None = Field(default=None, max_length=20)
    queued_at: datetime | None = None
    review_round: int = 0
    decided_at: datetime | None = None
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    applied_at: datetime | None = None
    applied_benefit_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    snapshot: str | None = Field(default=None, sa_column=Column(Text))
    changed_fields: str | None = Field(default=None, max_length=300)


class CoAuthorRow(SQLModel, table=True):
    """A co-author of an initiative (Circular 18, item 2)."""

    __tablename__ = "coauthor"

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    position: int
    name: str = Field(max_length=200)
    percent: int
    birth_date: date | None = None
    workplace: str | None = Field(default=None, max_length=300)
    job_title: str | None = Field(default=None, max_length=200)
    qualification: str | None = Field(default=None, max_length=200)


class AttachmentRow(SQLModel, table=True):
    """A photo or document attached to an initiative, kept by the channel's file id."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("initiative_id", "file_unique_id", name="uq_attachment_file"),)

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    kind: str = Field(max_length=16)
    file_id: str = Field(max_length=200)
    file_unique_id: str = Field(max_length=100)
    size: int | None = None
    mime_type: str | None = Field(default=None, max_length=100)
    file_name: str | None = Field(default=None, max_length=255)
    caption: str | None = Field(default=None, max_length=1024)  # what the worker typed under it
    created_at: datetime


class ReviewerRow(SQLModel, table=True):
    """A person's right to review the initiatives of one unit (at that unit's level)."""

    __tablename__ = "reviewer"
    __table_args__ = (Index("ix_reviewer_unit_active", "unit_id", "revoked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    granted_by: int | None = Field(default=None, foreign_key="app_user.id")
    granted_at: datetime
    revoked_at: datetime | None = None


class ReviewVoteRow(SQLModel, table=True):
    """A council member's vote on an initiative in one review round."""

    __tablename__ = "review_vote"
    __table_args__ = (UniqueConstraint("initiative_id", "round", "user_id", name="uq_vote_once"),)

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    round: int
    user_id: int = Field(foreign_key="app_user.id")
    vote: str = Field(max_length=20)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    scores: str | None = Field(default=None, max_length=40)  # an approving member's, "4/5/3"
    created_at: datetime


class ReviewActionRow(SQLModel, table=True):
    """The audit log: who did what to an initiative, when, from which status to which."""

    __tablename__ = "review_action"

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiative.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=20)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    level: str | None = Field(default=None, max_length=20)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    comment: str | None = Field(default=None, sa_column=Column(Text))
    scores: str | None = Field(default=None, max_length=40)
    # a council's decision: which council, the votes for it and cast, the approving votes scored
    council_unit_id: int | None = None
    votes_for: int | None = None
    votes_cast: int | None = None
    votes_scored: int | None = None
    created_at: datetime


class CampaignRow(SQLModel, table=True):
    """A campaign; seeded from bot.toml when missing, then changed by admins (/campaigns, CLI)."""

    __tablename__ = "campaign"

    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=300)
    start: date
    end: date
    target: int = 0
    categories: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: datetime
    updated_at: datetime


class CampaignTargetRow(SQLModel, table=True):
    """A unit's own target in a campaign, optionally for one sector (e.g. 100,000 from enterprises)."""

    __tablename__ = "campaign_target"
    __table_args__ = (UniqueConstraint("campaign_key", "unit_id", "sector", name="uq_campaign_target"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_key: str = Field(foreign_key="campaign.key", max_length=32)
    unit_id: int = Field(foreign_key="unit.id")
    sector: str | None = Field(default=None, max_length=20)
    target: int


class JobRunRow(SQLModel, table=True):
    """One run of a scheduled job; (job, scheduled_for) is unique so a run never happens twice."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_job_run"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    scheduled_for: datetime
    started_at: datetime
    finished_at: datetime | None = None
    report: str | None = Field(default=None, sa_column=Column(Text))
    claimed_by: str | None = Field(default=None, max_length=80)  # the process running it
    lease_until: datetime | None = None  # another process may take it over after this


class OutboxRow(SQLModel, table=True):
    """A message to send, written before sending and marked when Telegram confirms it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    job_run_id: int | None = Field(default=None, foreign_key="job_run.id", index=True)
    chat: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    locale: str = Field(default="vi", max_length=8)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=80)  # the process sending it
    lease_until: datetime | None = None  # another process may take it over after this


class SentCardRow(SQLModel, table=True):
    """The channel's id of the last review card of an initiative sent to a chat (edited later)."""

    __tablename__ = "sent_card"

    initiative_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    chat: str = Field(primary_key=True, max_length=64)
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sent_at: datetime


class CodeCounterRow(SQLModel, table=True):
    """The last sequence number used for initiative codes of one year."""

    __tablename__ = "code_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class DomainEventRow(SQLModel, table=True):
    """Something that happened (e.g. an initiative was submitted), for other parts to act on."""

    __tablename__ = "domain_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    initiative_id: int | None = Field(default=None, index=True)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime
    handled_at: datetime | None = Field(default=None, index=True)


class ProcessedUpdateRow(SQLModel, table=True):
    """An update already handled, so a repeated delivery is processed once."""

    __tablename__ = "processed_update"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key: one B-tree fewer per update

    channel: str = Field(primary_key=True, max_length=16)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    created_at: datetime  # not indexed: one page fewer per update; the daily prune scans (0007)


class GroupNoticeRow(SQLModel, table=True):
    """A group chat already told that the bot answers only in private."""

    __tablename__ = "group_notice"

    chat_key: str = Field(primary_key=True, max_length=64)
    created_at: datetime


class OfferedMenuRow(SQLModel, table=True):
    """The numbered menu a chat without buttons (Zalo, console) was shown last: what "2" means there."""

    __tablename__ = "offered_menu"

    chat_key: str = Field(primary_key=True, max_length=80)
    options: str = Field(sa_column=Column(Text, nullable=False))  # JSON: [[label, data], …]
    offered_at: datetime


class AccountLinkRow(SQLModel, table=True):
    """Another app's identity of a person (Zalo beside Telegram): it acts as that person."""

    __tablename__ = "account_link"

    channel: str = Field(primary_key=True, max_length=16)
    external_id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime


class LinkCodeRow(SQLModel, table=True):
    """A one-time code shown to a person, to be typed in the other app (one per person at a time)."""

    __tablename__ = "link_code"

    code: str = Field(primary_key=True, max_length=12)
    user_id: int = Field(foreign_key="app_user.id", unique=True)
    expires_at: datetime


class LinkAttemptRow(SQLModel, table=True):
    """Wrong codes typed by a person; at five, linking is locked for an hour."""

    __tablename__ = "link_attempt"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    failures: int = 0
    locked_until: datetime | None = None


class LeaderboardRuleRow(SQLModel, table=True):
    """The points the leaderboard tallies hold (one row, id 1; storage keeps it equal to bot.toml)."""

    __tablename__ = "leaderboard_rule"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    submitted: int
    grassroots: int
    upper: int
    city: int
    applied: int


class LeaderboardPartRow(SQLModel, table=True):
    """Points of one author's initiatives from one unit in a campaign (unit 0: none); kept by triggers."""

    __tablename__ = "leaderboard_part"
    __table_args__ = (Index("ix_leaderboard_part_unit", "campaign_key", "unit_id", "points", "reached_at"),)

    campaign_key: str = Field(primary_key=True, max_length=32)
    author_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    unit_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    points: int
    reached_at: datetime


class LeaderboardPersonRow(SQLModel, table=True):
    """A person's campaign score and when it was reached; kept by triggers, ranked by an index."""

    __tablename__ = "leaderboard_person"

    campaign_key: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    points: int
    reached_at: datetime


class LeaderboardUnitRow(SQLModel, table=True):
    """A unit's campaign score and when it was reached; kept by triggers, ranked by an index."""

    __tablename__ = "leaderboard_unit"

    campaign_key: str = Field(primary_key=True, max_length=32)
    unit_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    points: int
    reached_at: datetime


def _rank_index(name: str, table: Any, key: str) -> Index:
    """The leaderboard order as an index: campaign, points (high first), reached_at, id."""
    c = table.c
    return Index(name, c.campaign_key, c.points.desc(), c.reached_at, c[key])


_rank_index("ix_leaderboard_person_rank", SQLModel.metadata.tables["leaderboard_person"], "user_id")
_rank_index("ix_leaderboard_unit_rank", SQLModel.metadata.tables["leaderboard_unit"], "unit_id")


metadata = SQLModel.metadata

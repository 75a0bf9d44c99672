"""Domain types of the core: people, units, campaigns and initiatives, free of any framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True)
class UserRef:
    """Who a person is on one channel: the identity is translated to this at the edge."""

    channel: str
    external_id: str


class RegStep(StrEnum):
    """Where a person is in registration; DONE means registered."""

    LANGUAGE = "language"
    CONSENT = "consent"
    NAME = "name"
    PHONE = "phone"
    UNIT = "unit"
    DONE = "done"


class InitiativeType(StrEnum):
    """The four kinds of solution Decree 13/2012 recognises."""

    TECHNICAL = "technical"
    MANAGEMENT = "management"
    OPERATIONAL = "operational"
    APPLICATION = "application"


class Status(StrEnum):
    """Where an initiative is in its life."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    NOMINATED = "nominated"  # recognised at a level and forwarded up: under review at the upper unit
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass
class User:
    """A registered (or registering) person."""

    id: int
    ref: UserRef
    locale: str
    reg_step: RegStep = RegStep.LANGUAGE
    full_name: str | None = None
    phone: str | None = None
    unit_id: int | None = None
    consent_at: datetime | None = None
    pending_unit_code: str | None = None
    editing_profile: bool = False
    username: str | None = None
    awaiting: str | None = None
    step_keyboard: str | None = None  # "chat:message id" of the buttons of the step the person is at
    reminders_off: bool = False
    leaderboard_off: bool = False
    blocked: bool = False
    deleted: bool = False
    last_channel: str | None = None  # the app the person wrote from last: where their messages go

    @property
    def registered(self) -> bool:
        """True once every registration step is answered (also while editing the profile)."""
        return self.reg_step is RegStep.DONE or self.editing_profile


@dataclass(frozen=True)
class Unit:
    """A union unit: grassroots, upper (district/industry) or city federation."""

    id: int
    code: str
    name: str
    parent_id: int | None = None
    sector: str = "enterprise"
    level: str = "grassroots"
    headcount: int = 0
    review_mode: str = "single"
    quorum: int = 1
    review_chat: str | None = None
    covers_below: bool = False

    @property
    def council(self) -> bool:
        """True when decisions need a council vote rather than one reviewer."""
        return self.review_mode == "council"


@dataclass(frozen=True)
class CoAuthor:
    """A co-author and his share of the contribution, in whole percent."""

    name: str
    percent: int


@dataclass(frozen=True)
class Attachment:
    """A photo or document kept by the channel's file id."""

    kind: str
    file_id: str
    file_unique_id: str
    size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    caption: str | None = None  # the text sent with the file (a photo's caption)


@dataclass
class Initiative:
    """An initiative, from draft to decision; a draft knows which field comes next."""

    id: int
    author_id: int
    unit_id: int | None
    campaign_key: str
    status: Status = Status.DRAFT
    step: str = "title"
    editing: bool = False
    code: str | None = None
    title: str | None = None
    category: str | None = None
    kind: InitiativeType | None = None
    problem: str | None = None
    solution: str | None = None
    benefit: str | None = None
    benefit_vnd: int | None = None
    applied_since: date | None = None
    applied_month_only: bool = False  # only the month was given: applied_since is its first day
    author_percent: int = 100
    conditions: str | None = None
    confidential: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    decision_due: date | None = None
    version: int = 0
    review_unit_id: int | None = None
    review_level: str | None = None
    recognised_level: str | None = None
    queued_at: datetime | None = None
    review_round: int = 0
    decided_at: datetime | None = None
    decided_by: int | None = None
    applied_at: datetime | None = None
    applied_benefit_vnd: int | None = None
    snapshot: str | None = None
    changed_fields: str | None = None
    coauthors: list[CoAuthor] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class Grant:
    """A reviewer right: a person reviews one unit (and the units below it if it covers them)."""

    id: int
    user: User
    unit: Unit


@dataclass(frozen=True)
class Tally:
    """The count behind a council's decision: the council's unit, the votes for what it decided and
    the votes cast, and how many approving votes gave scores (the decision's scores are their mean)."""

    unit_id: int
    unit_name: str
    votes_for: int
    votes_cast: int
    scored: int = 0


@dataclass(frozen=True)
class AuditEntry:
    """One line of an initiative's audit log."""

    action: str
    from_status: str
    to_status: str
    actor_name: str | None
    level: str | None
    comment: str | None
    scores: str | None
    created_at: datetime
    by_council: bool = False  # a council's decision (no one person's): the votes are the lines before it
    actor_id: int | None = None
    unit_id: int | None = None  # the unit reviewing it once the action was done
    unit_name: str | None = None
    tally: Tally | None = None  # a council's decision: its count


@dataclass(frozen=True)
class Vote:
    """A council member's vote."""

    user_id: int
    name: str
    vote: str
    comment: str | None
    scores: str | None = None  # an approving member's scores, "4/5/3"

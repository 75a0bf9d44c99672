"""What the core needs from storage, as protocols; `storage/` implements them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from bot.config import Campaign
from bot.domain import Attachment, AuditEntry, Grant, Initiative, Status, Tally, Unit, User, UserRef, Vote
from bot.leaderboard import Board, Points, Ranking, ReaderRank, Window
from bot.messages import Choice

if TYPE_CHECKING:
    from bot.delivery import NewMessage, OutboxItem, Recipient


class Merged(NamedTuple):
    """What an account gave the one it joined: submitted initiatives and reviewer rights."""

    initiatives: int
    rights: int


class UpdatesPruned(NamedTuple):
    """One step of forgetting handled updates: how many went, and the key to go on after."""

    removed: int
    after: tuple[str, int] | None


class PeoplePort(Protocol):
    """People, units and reviewer rights."""

    async def user_by_ref(self, ref: UserRef, *, for_update: bool = False) -> User | None:
        """Return the person behind `ref`, if known (their row locked until commit if asked: one
        person's updates are handled one at a time, whichever process they reach)."""

    async def user(self, user_id: int) -> User | None:
        """Return a person by id."""

    async def create_user(self, ref: UserRef, *, locale: str, now: datetime) -> User:
        """Create a person at the first registration step."""

    async def save_user(self, user: User, *, now: datetime) -> None:
        """Store every mutable field of `user`."""

    async def set_step_keyboard(self, ref: UserRef, keyboard: str | None) -> bool:
        """Remember which message ("chat:message id") carries the buttons of the step the person
        `ref` is at; False when `ref` is nobody's own account (a linked one, say)."""

    async def unblock(self, user_id: int) -> None:
        """Someone who had blocked the bot writes again: messages may reach them again."""

    async def find_users(
        self,
        *,
        phone: str | None = None,
        username: str | None = None,
        name: str | None = None,
        limit: int = 8,
    ) -> list[User]:
        """Registered people matching a phone, a @username or the words of a (folded) name."""

    async def claim_update(self, channel: str, seq: int, *, now: datetime, seen_after: datetime) -> bool:
        """Record an update as handled; False when it was handled after `seen_after` (a repeated
        delivery). An older row with the same id is from before Telegram started its ids over."""

    async def prune_updates(self, *, before: datetime, after: tuple[str, int] | None, scan: int) -> UpdatesPruned:
        """Look at up to `scan` handled updates in key order past `after`, forget those older than
        `before`; returns how many went and where to go on (None once the table is done)."""

    async def claim_group_notice(self, chat_key: str, *, now: datetime) -> bool:
        """True the first time a group chat is seen (to say once that the bot works in private)."""

    async def unit(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""

    async def unit_by_code(self, code: str) -> Unit | None:
        """Return a unit by its code (case-insensitive)."""

    async def unit_by_review_chat(self, chat_key: str) -> list[Unit]:
        """Return the units whose council works in this group chat."""

    async def set_review_chat(self, unit_id: int, chat_key: str | None) -> None:
        """Name (or clear) the group chat where a unit's review cards go."""

    async def search_units(self, folded: str, *, limit: int) -> list[Unit]:
        """Return units whose folded name contains every word of `folded`."""

    async def unit_chain(self, unit_id: int) -> list[Unit]:
        """Return the unit and its ancestors, nearest first."""

    async def descendants(self, unit_ids: list[int]) -> list[int]:
        """Return the ids of every unit below the given ones."""

    async def grant(self, user_id: int, unit_id: int, *, by: int | None, now: datetime) -> bool:
        """Give a person reviewer rights on a unit; False if they already have them."""

    async def revoke(self, grant_id: int, *, now: datetime) -> bool:
        """Take a reviewer right away; False if it was not active."""

    async def grants(self, *, unit_ids: list[int] | None = None, user_id: int | None = None) -> list[Grant]:
        """Active reviewer rights, optionally of some units or of one person."""

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Return everything stored about a person."""

    async def forget_person(self, user_id: int, *, now: datetime) -> None:
        """Delete personal data; initiatives stay with the author anonymised."""


class InitiativePort(Protocol):
    """Initiatives and their children."""

    async def draft_of(self, author_id: int) -> Initiative | None:
        """Return what the author is writing: a draft, or an initiative being revised."""

    async def create_draft(self, initiative: Initiative, *, now: datetime) -> Initiative:
        """Insert a new draft and return it with its id."""

    async def save_initiative(self, initiative: Initiative, *, now: datetime) -> None:
        """Store every field of the initiative (not its children)."""

    async def save_if_unchanged(self, initiative: Initiative, *, expected_version: int, now: datetime) -> bool:
        """Store the initiative only if nobody changed it since `expected_version` was read."""

    async def delete_draft(self, initiative_id: int) -> None:
        """Remove a draft and its children (never a submitted initiative)."""

    async def load_children(self, initiative: Initiative) -> None:
        """Fill co-authors and attachments of `initiative`."""

    async def replace_coauthors(self, initiative: Initiative) -> None:
        """Store the initiative's co-authors, replacing earlier ones."""

    async def add_attachment(self, initiative_id: int, attachment: Attachment) -> bool:
        """Attach a file; False when the same file is already attached."""

    async def clear_attachments(self, initiative_id: int) -> None:
        """Remove every attachment of an initiative being written."""

    async def next_code_number(self, year: int) -> int:
        """Return the next sequence number for codes of `year`."""

    async def initiative(self, initiative_id: int, *, for_update: bool = False) -> Initiative | None:
        """Return an initiative by id, without children (locking its row until commit if asked)."""

    async def duplicate_candidates(
        self, campaign_key: str, *, after_id: int, limit: int
    ) -> list[tuple[int, str, str, str, str | None]]:
        """(id, code, status, title, start of solution) of submitted initiatives with id > `after_id`."""

    async def initiative_by_code(self, code: str) -> Initiative | None:
        """Return an initiative by its code."""

    async def initiatives_of(self, author_id: int, *, offset: int, limit: int) -> tuple[list[Initiative], int]:
        """Return the author's non-draft initiatives, newest first, and how many there are."""

    async def record_event(self, kind: str, initiative_id: int, payload: dict[str, Any], *, now: datetime) -> None:
        """Append a domain event for other parts of the system to act on."""


class ReviewPort(Protocol):
    """The review queue, council votes and the audit log."""

    async def queue(
        self,
        unit_ids: list[int],
        *,
        offset: int,
        limit: int,
        category: str | None = None,
        unit_id: int | None = None,
        exclude_author: int | None = None,
    ) -> tuple[list[Initiative], int]:
        """Initiatives waiting at these units, oldest first, and their number (not the reader's own)."""

    async def add_vote(
        self,
        initiative_id: int,
        round_: int,
        user_id: int,
        vote: str,
        comment: str | None,
        *,
        scores: str | None = None,
        now: datetime,
    ) -> bool:
        """Record a council member's vote (with the scores of an approving one); False if they
        already voted in this round."""

    async def votes_of(self, initiative_id: int, round_: int) -> list[Vote]:
        """The votes cast in one round, in order."""

    async def record_action(
        self,
        item: Initiative,
        *,
        actor_id: int | None,
        action: str,
        from_status: str,
        comment: str | None,
        scores: str | None,
        tally: Tally | None = None,
        now: datetime,
    ) -> None:
        """Append a line to the audit log (a council's decision with its `tally`)."""

    async def audit(self, initiative_id: int) -> list[AuditEntry]:
        """The audit log of an initiative, oldest first."""


class CampaignPort(Protocol):
    """Campaigns and units' targets."""

    async def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest start first."""

    async def add_campaign(self, campaign: Campaign, *, now: datetime) -> bool:
        """Create a campaign unless one with its key exists; True if created."""

    async def update_campaign(self, key: str, values: dict[str, Any], *, now: datetime) -> bool:
        """Change a campaign's name, dates or target; False if there is no such campaign."""

    async def set_target(self, campaign_key: str, unit_id: int, sector: str | None, target: int) -> None:
        """Set (replace) a unit's target in a campaign, optionally for one sector."""

    async def targets(self, campaign_key: str) -> list[tuple[int, str | None, int]]:
        """(unit id, sector or None, target) of a campaign."""


class JobPort(Protocol):
    """Job runs and the selections jobs work on."""

    async def claim_run(
        self, job: str, scheduled_for: datetime, *, now: datetime, owner: str, lease_until: datetime
    ) -> int | None:
        """Claim the run of `job` for `scheduled_for` for `owner` until `lease_until`; None when that
        run finished, or another process holds it and its lease has not ended."""

    async def renew_run(self, run_id: int, *, owner: str, lease_until: datetime) -> bool:
        """Extend `owner`'s lease on a run; False if another process took it over."""

    async def finish_run(self, run_id: int, report: dict[str, Any], *, now: datetime) -> None:
        """Close a run with its report."""

    async def last_run(self, job: str) -> datetime | None:
        """When the latest run of `job` was scheduled for."""

    async def unreported_runs(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Finished runs whose delivery report has not gone out yet: (id, job, report)."""

    async def mark_reported(self, run_id: int, report: dict[str, Any]) -> None:
        """Remember that a run's delivery report went out."""

    async def reachable_users(self, *, after_id: int, limit: int, reminders: bool = False) -> list[User]:
        """Registered people the bot may message, by id."""

    async def idle_drafts(
        self, *, before: datetime, since: datetime, status: Status = Status.DRAFT
    ) -> list[tuple[Initiative, User]]:
        """Drafts (or initiatives in another `status`) last touched between `since` and `before`,
        with their authors."""

    async def idle_authors(self, campaign_key: str, *, since: datetime, after_id: int, limit: int) -> list[User]:
        """People accepting reminders who submitted nothing to the campaign since `since`."""

    async def waiting_since(self, *, before: datetime, since: datetime) -> list[Initiative]:
        """Open initiatives queued at their current unit between `since` and `before`."""

    async def progress_counts(self, campaign_key: str) -> dict[int, dict[str, int]]:
        """Per unit of submission: submitted, recognised, applied, recognised authors."""

    async def all_units(self) -> list[tuple[int, str, str, int | None, str, int]]:
        """(id, code, name, parent id, sector, headcount) of every unit."""


class OutboxPort(Protocol):
    """The outbox: every scheduled or broadcast message, written before it is sent."""

    async def enqueue(
        self,
        key: str,
        chat: str,
        user_id: int | None,
        locale: str,
        payload: str,
        not_before: datetime,
        job_run_id: int | None,
        now: datetime,
    ) -> bool:
        """Add a message to send; False (and nothing changes) when `key` was enqueued before."""

    async def enqueue_many(self, messages: list[NewMessage], now: datetime) -> int:
        """Add many messages at once; returns how many were new (known keys are left as they are)."""

    async def recipients(self, chats: list[str]) -> dict[str, Recipient]:
        """The known people behind these chat keys ("telegram:123": an account's own chat, or one
        linked to it), with their delivery flags and their chat in the app they wrote from last."""

    async def chats_of(self, user_id: int) -> list[str]:
        """Every chat of a person: their account's own first, then the apps linked to it, oldest first."""

    async def outbox_item(self, id: int) -> OutboxItem | None:
        """One message of the outbox, whatever its state."""

    async def use_channel(self, user_id: int, channel: str) -> None:
        """Send the person's messages to their chat in `channel` from now on."""

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        owner: str,
        lease_until: datetime,
        exclude: list[int] | None = None,
        channel: str | None = None,
    ) -> list[OutboxItem]:
        """Claim for `owner` until `lease_until` the pending messages due by `now` that no other
        process holds, oldest first (leaving out the `exclude` ids; only chats of `channel` if given)."""

    async def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """How many messages are due and not sent yet, and since when the oldest is due."""

    async def renew_claims(self, ids: list[int], *, owner: str, lease_until: datetime) -> int:
        """Extend `owner`'s lease on these messages; returns how many it still holds."""

    async def release_claims(self, ids: list[int], *, owner: str) -> None:
        """Give back `owner`'s claims on these messages."""

    async def mark_sent(self, id: int, now: datetime, *, owner: str) -> bool:
        """Record that the channel confirmed the message `owner` claimed; False if another holds it now."""

    async def mark_delivered(self, key: str, now: datetime) -> bool:
        """The message of `key` was delivered as a direct answer before any sender took it."""

    async def pending_keys(self, keys: list[str]) -> list[str]:
        """Which of these keys name a message still waiting to be sent."""

    async def mark_failed(self, id: int, error: str, retry_at: datetime | None, now: datetime, *, owner: str) -> None:
        """Count a failed attempt: try again at `retry_at`, or give up (status failed) when None."""

    async def mark_blocked(self, id: int, user_id: int | None, now: datetime, *, owner: str) -> None:
        """The recipient blocked the bot: drop the message and remember the person as blocked."""

    async def delivery_report(self, job_run_id: int) -> dict[str, int]:
        """How many messages of a job run are pending, sent, failed or blocked."""

    async def prune_outbox(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` finished messages last due before `before` whose run was reported; returns how many."""

    async def prune_blobs(self, *, before: datetime) -> int:
        """Delete shared files stored before `before` that no message still to be sent uses; returns how many."""

    async def store_blob(self, digest: str, content: bytes, now: datetime) -> None:
        """Keep a file that many messages share (once per SHA-256 digest)."""

    async def load_blob(self, digest: str) -> bytes | None:
        """Return a shared file by its SHA-256 digest."""


class SentCardPort(Protocol):
    """The review cards sent: the channel's message id of each initiative's latest card per chat."""

    async def record_card(self, initiative_id: int, chat: str, message_id: int, now: datetime) -> int | None:
        """Keep `message_id` as the initiative's card in `chat`; returns the one it replaces, if any."""

    async def card_message(self, initiative_id: int, chat: str) -> int | None:
        """The message id of the initiative's latest card in `chat`, if one was sent."""

    async def card_messages(self, initiative_id: int) -> dict[str, int]:
        """The message id of the initiative's latest card in every chat it was sent to."""

    async def forget_cards(self, initiative_id: int, chats: list[str]) -> None:
        """The initiative's cards in these chats lost their buttons: nothing is left to change there."""


class LinkPort(Protocol):
    """Account linking: another app's identity of a person, one-time codes, wrong tries."""

    async def linked_user(self, ref: UserRef, *, for_update: bool = False) -> User | None:
        """The person whose account `ref` was linked to, if it was (their row locked until commit if asked)."""

    async def link_identity(self, ref: UserRef, user_id: int, *, now: datetime) -> None:
        """Let `ref` act as the person `user_id` from now on."""

    async def put_link_code(self, user_id: int, code: str, *, expires_at: datetime, now: datetime) -> bool:
        """Make `code` the person's one code; False when another person's live code is the same."""

    async def link_code_owner(self, code: str, *, now: datetime) -> int | None:
        """Whose live code `code` is."""

    async def drop_link_code(self, code: str) -> None:
        """A code is used once."""

    async def link_locked_until(self, user_id: int) -> datetime | None:
        """Until when the person may not type link codes."""

    async def link_failed(self, user_id: int, *, now: datetime, limit: int, lock: timedelta) -> int:
        """Count a wrong code; at `limit` in a row, lock linking for `lock`. Returns the tries left."""

    async def link_succeeded(self, user_id: int) -> None:
        """Forget the wrong tries of a person who typed a right code."""

    async def open_drafts(self, user_ids: list[int]) -> list[Initiative]:
        """The unsent drafts of these people (one each at most)."""

    async def both_voted(self, keep: int, drop: int) -> bool:
        """True when both accounts voted in the same round of one initiative (one person, two votes)."""

    async def merge_person(self, keep: int, drop: int) -> Merged:
        """Give `keep` the initiatives (a draft only if `keep` has none), decisions, votes, audit
        entries, reviewer rights (one per unit), linked apps and waiting messages of `drop`."""


class MenuPort(Protocol):
    """The numbered menu each chat without buttons was offered last."""

    async def offered_menu(self, chat_key: str) -> list[Choice]:
        """The options last numbered in `chat_key` (none: no menu is shown there)."""

    async def offer_menu(self, chat_key: str, options: list[Choice], *, now: datetime) -> None:
        """Make `options` the chat's menu (an empty list: it has none)."""


class LeaderboardPort(Protocol):
    """Scores of people and units in a campaign (rules in bot/leaderboard.py)."""

    async def leaderboard(
        self, campaign_key: str, *, window: Window, points: Points, top_n: int, reader_id: int | None = None
    ) -> Board:
        """The top `top_n` people and units of `window`, their totals, and `reader_id`'s rank if given."""

    async def reader_rank(self, campaign_key: str, user_id: int, *, window: Window, points: Points) -> ReaderRank:
        """The reader's rank among people with points, and their (current) unit's rank."""

    async def ranking(self, campaign_key: str, *, window: Window, points: Points) -> Ranking:
        """Everyone's rank, for telling each reader of a broadcast their own place."""

    async def use_points(self, points: Points) -> None:
        """Make the tallies count `points` (a write: rebuilds them only when the points changed)."""


class Tx(
    PeoplePort,
    InitiativePort,
    ReviewPort,
    CampaignPort,
    JobPort,
    OutboxPort,
    SentCardPort,
    LeaderboardPort,
    LinkPort,
    MenuPort,
    Protocol,
):
    """One transaction: everything done through it commits together or not at all."""


class Store(Protocol):
    """A source of transactions."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Open a write transaction that commits on success and rolls back on error."""

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """Open a read transaction (one snapshot, writes nothing, never waits for writers)."""

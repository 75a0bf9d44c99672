"""The outbox seen from the core: enqueue notices once per job run, hand them out, record outcomes."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.chunks import CHUNK, delete_in_chunks
from bot.clock import Clock, local
from bot.messages import Choice, Notice, Reply, strip_buttons
from bot.serialize import Blobs, blob_refs, dump_replies, load_replies

if TYPE_CHECKING:
    from bot.config import Config
    from bot.ports import Store, Tx

log = logging.getLogger(__name__)
PENDING, SENT, FAILED, BLOCKED = "pending", "sent", "failed", "blocked"
FINISHED = (SENT, FAILED, BLOCKED)  # never tried again: what pruning may delete
BLOB = "blob"
REROUTED = ":other-app"  # the key's end of a message sent on to another app of its person
KEY_MAX = 120
ENQUEUE_CHUNK = 1000
LEASE = timedelta(minutes=2)  # a dead process's claims are taken over after this


def process_name() -> str:
    """A name for this process's claims, unique among the processes sharing the database."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class OutboxItem:
    """One message waiting in the outbox."""

    id: int
    key: str
    chat: str
    user_id: int | None
    locale: str
    payload: str
    attempts: int
    job_run_id: int | None


@dataclass(frozen=True)
class NewMessage:
    """A message to write into the outbox."""

    key: str
    chat: str
    user_id: int | None
    locale: str
    payload: str
    not_before: datetime
    job_run_id: int | None


@dataclass(frozen=True)
class Recipient:
    """What the outbox needs to know of the person behind a chat."""

    user_id: int
    blocked: bool
    reminders_off: bool
    leaderboard_off: bool = False
    chat: str | None = None  # the person's chat in the app they wrote from last

    def chat_now(self, addressed: str) -> str:
        """Where a message addressed to one of the person's chats goes: their chat in the app they
        wrote from last (the one rule of where a person's messages go)."""
        return self.chat or addressed

    def declines(self, topic: str) -> bool:
        """True when the person turned this kind of scheduled message off ("reminders" or "leaderboard")."""
        return self.leaderboard_off if topic == "leaderboard" else self.reminders_off


@dataclass
class Enqueued:
    """What `enqueue_notices` did: added, already there, skipped (blocked, reminders off)."""

    added: int = 0
    repeated: int = 0
    blocked: int = 0
    opted_out: int = 0
    chats: set[str] = field(default_factory=set)  # where the added messages go (their senders to wake)


@dataclass
class Prepared:
    """Outbox rows made ahead of their write transaction, the files they share, what was skipped."""

    rows: list[NewMessage] = field(default_factory=list)
    blobs: Blobs = field(default_factory=Blobs)
    outcome: Enqueued = field(default_factory=Enqueued)


@dataclass(frozen=True)
class QuietHours:
    """Local hours without reminders (start–end, may cross midnight; start == end: none)."""

    start: time = time(21, 0)
    end: time = time(7, 0)
    timezone: str = "Asia/Ho_Chi_Minh"

    @classmethod
    def from_config(cls, config: Config) -> QuietHours:
        """The quiet hours configured in `[jobs]`, in the bot's time zone."""
        return cls(config.jobs.quiet_start, config.jobs.quiet_end, config.bot.timezone)

    def release(self, moment: datetime) -> datetime:
        """`moment` if it is outside the quiet hours, else the (UTC) time they end."""
        if self.start == self.end:
            return moment
        here = local(moment, self.timezone)
        clock = here.time().replace(tzinfo=None)
        if self.start < self.end:
            inside, next_day = self.start <= clock < self.end, False
        else:
            inside, next_day = clock >= self.start or clock < self.end, clock >= self.start
        if not inside:
            return moment
        day = here.date() + timedelta(days=1 if next_day else 0)
        return datetime.combine(day, self.end, tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)


class Delivery:
    """The outbox for the core and the channel senders; every outcome is its own small commit.

    A sender claims the rows it takes for this process (`owner`) until its lease ends, renewing it
    while it holds them, and records outcomes only for rows it still holds: several processes on one
    database never send a row twice, and a dead one's rows are taken over when its lease ends."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        max_attempts: int = 3,
        backoff: timedelta = timedelta(seconds=30),
        blob_cache: int = 8,
        owner: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.owner = owner or process_name()
        self.lease = lease
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._blob_cache = blob_cache
        self._wakers: dict[str, Callable[[], None]] = {}

    def subscribe(self, channel: str, wake: Callable[[], None]) -> None:
        """Have `wake` called whenever messages to chats of `channel` were just committed."""
        self._wakers[channel] = wake

    def wake(self, chats: Iterable[str]) -> None:
        """Messages to these chats were just committed: wake the senders of their channels."""
        for channel in {chat.partition(":")[0] for chat in chats}:
            waker = self._wakers.get(channel)
            if waker is not None:
                waker()

    async def enqueue_notices(
        self,
        tx: Tx,
        notices: list[Notice],
        *,
        job_run_id: int | None,
        key_prefix: str,
        quiet: QuietHours | None = None,
        respect_opt_out: str | None = None,
        numbered: bool = False,
        delay: timedelta = timedelta(0),
    ) -> Enqueued:
        """Write each notice once (key `prefix:chat`, or `prefix:n:chat` for the n-th notice when
        `numbered`), skipping blocked people (and, when asked with a topic, those who turned that
        topic off: "reminders" or "leaderboard"); reminders (`quiet` given) wait for the quiet
        hours' end, others for `delay`."""
        known = await tx.recipients(sorted({n.chat for n in notices}))
        batch = self.prepare(
            notices,
            known,
            job_run_id=job_run_id,
            key_prefix=key_prefix,
            quiet=quiet,
            respect_opt_out=respect_opt_out,
            numbered=numbered,
            delay=delay,
        )
        for start in range(0, len(batch.rows), ENQUEUE_CHUNK):
            chunk = batch.rows[start : start + ENQUEUE_CHUNK]
            added = await tx.enqueue_many(chunk, self.clock())
            batch.outcome.added += added
            batch.outcome.repeated += len(chunk) - added
        await self.store_blobs(tx, batch.blobs)
        return batch.outcome

    def prepare(
        self,
        notices: list[Notice],
        known: dict[str, Recipient],
        *,
        job_run_id: int | None,
        key_prefix: str,
        quiet: QuietHours | None = None,
        respect_opt_out: str | None = None,
        numbered: bool = False,
        delay: timedelta = timedelta(0),
    ) -> Prepared:
        """The outbox rows of `notices` (see `enqueue_notices`), made without a transaction from the
        recipients read beforehand (`known`): a job makes them before it takes the write lock."""
        now = self.clock()
        not_before = quiet.release(now) if quiet is not None else now + delay
        batch = Prepared()
        for index, notice in enumerate(notices):
            key = f"{key_prefix}:{index}:{notice.chat}" if numbered else f"{key_prefix}:{notice.chat}"
            if len(key) > KEY_MAX:
                raise ValueError(f"outbox key longer than {KEY_MAX}: {key!r}")
            person = known.get(notice.chat)
            if person is not None and person.blocked:
                batch.outcome.blocked += 1
                continue
            if person is not None and respect_opt_out and person.declines(respect_opt_out):
                batch.outcome.opted_out += 1
                continue
            payload = dump_replies(notice.replies, blobs=batch.blobs)
            user_id = person.user_id if person is not None else None
            chat = person.chat_now(notice.chat) if person is not None else notice.chat
            batch.outcome.chats.add(chat)
            batch.rows.append(NewMessage(key, chat, user_id, notice.locale, payload, not_before, job_run_id))
        return batch

    async def store_blobs(self, tx: Tx, blobs: dict[str, bytes]) -> None:
        """Keep the files the rows refer to (a file already kept stays as it is)."""
        for digest, content in blobs.items():
            await tx.store_blob(digest, content, self.clock())

    async def next_batch(
        self, limit: int, *, exclude: list[int] | None = None, channel: str | None = None
    ) -> list[OutboxItem]:
        """Claim messages due now for this process, oldest first: those nobody else holds (except
        the ids the sender already holds; one channel's if given)."""
        now = self.clock()
        async with self.store.transaction() as tx:
            return await tx.claim_due(
                now, limit, owner=self.owner, lease_until=now + self.lease, exclude=exclude, channel=channel
            )

    async def renew(self, ids: list[int]) -> None:
        """Keep holding these messages for another lease (a sender waiting on a chat's limit)."""
        if not ids:
            return
        now = self.clock()
        async with self.store.transaction() as tx:
            held = await tx.renew_claims(ids, owner=self.owner, lease_until=now + self.lease)
        if held < len(ids):
            log.warning("%s of %s outbox claims were taken over by another process", len(ids) - held, len(ids))

    async def release(self, ids: list[int]) -> None:
        """Give back messages claimed and not sent: any process may take them at once."""
        if ids:
            async with self.store.transaction() as tx:
                await tx.release_claims(ids, owner=self.owner)

    async def backlog(self) -> tuple[int, float]:
        """Messages due and not sent yet, and how many seconds the oldest has waited (a health check:
        it also fails when the database cannot be reached)."""
        now = self.clock()
        async with self.store.transaction() as tx:
            count, oldest = await tx.backlog(now)
        return count, max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    async def replies(self, item: OutboxItem) -> tuple[Reply, ...]:
        """The replies of an item, shared files filled in (a few kept in memory)."""
        for digest in blob_refs(item.payload) - self._blobs.keys():
            async with self.store.transaction() as tx:
                content = await tx.load_blob(digest)
            if content is None:
                raise LookupError(f"shared file {digest} is missing")
            self._blobs[digest] = content
            while len(self._blobs) > self._blob_cache:
                self._blobs.popitem(last=False)
        return load_replies(item.payload, blobs=self._blobs)

    async def sent(
        self,
        id: int,
        *,
        chat: str = "",
        menu: list[Choice] | None = None,
        cards: Iterable[tuple[int, int]] = (),
    ) -> None:
        """The channel confirmed the message; on a channel without buttons, `menu` is what it
        numbered in `chat` (kept with the confirmation: a typed number means it from now on); the
        review cards among it, (initiative, message id) in `chat`, are kept (the older card of the
        same initiative there loses its buttons)."""
        shown, replaced = list(cards), []
        async with self.store.transaction() as tx:
            if not await tx.mark_sent(id, self.clock(), owner=self.owner):
                log.warning("outbox item %s was sent after its claim passed to another process", id)
            if menu is not None:
                await tx.offer_menu(chat, menu, now=self.clock())
            if shown:
                replaced = await self.keep_cards(tx, chat, shown)
        if replaced:
            self.wake([chat])

    async def keep_cards(self, tx: Tx, chat: str, cards: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Keep the message ids of review cards just shown in `chat` ((initiative, message id)), and
        have the older card of each initiative there lose its buttons; returns the older ones."""
        now = self.clock()
        replaced = []
        for initiative_id, message_id in cards:
            older = await tx.record_card(initiative_id, chat, message_id, now)
            if older is not None:
                replaced.append((initiative_id, older))
        strips = [
            NewMessage(f"strip:{chat}:{older}", chat, None, "", dump_replies((strip_buttons(older),)), now, None)
            for _, older in replaced
        ]
        if strips:
            await tx.enqueue_many(strips, now)
        return replaced

    async def card_targets(self, chat: str, initiatives: Iterable[int]) -> dict[int, int]:
        """The message id of each initiative's latest card in `chat` (those sent)."""
        found: dict[int, int] = {}
        async with self.store.read() as tx:
            for initiative_id in set(initiatives):
                message_id = await tx.card_message(initiative_id, chat)
                if message_id is not None:
                    found[initiative_id] = message_id
        return found

    async def blocked(self, id: int, user_id: int | None) -> None:
        """The recipient blocked the bot: the message goes to their other app if they linked one
        (which their messages use from now on); else later enqueues skip them."""
        async with self.store.transaction() as tx:
            other = await self._reroute(tx, id)
            await tx.mark_blocked(id, None if other else user_id, self.clock(), owner=self.owner)
        if other:
            self.wake([other])

    async def failed(self, id: int, error: str, attempts: int, *, permanent: bool = False) -> datetime | None:
        """Record a failed try (`attempts` = tries before this one); returns when it is retried
        (backoff doubling from `backoff`), or None once `max_attempts` are used up or it is hopeless."""
        now = self.clock()
        tries = attempts + 1
        retry_at = None if permanent or tries >= self.max_attempts else now + self.backoff * 2 ** (tries - 1)
        async with self.store.transaction() as tx:
            other = await self._reroute(tx, id) if permanent else None
            await tx.mark_failed(id, error, retry_at, now, owner=self.owner)
        if other:
            self.wake([other])
        return retry_at

    async def _reroute(self, tx: Tx, id: int) -> str | None:
        """Queue a message its chat refused for good to the person's other app, once (a copy is not
        sent on again), and send their messages there from now on; that chat, or None."""
        item = await tx.outbox_item(id)
        if item is None or item.user_id is None or item.key.endswith(REROUTED):
            return None
        other = next((chat for chat in await tx.chats_of(item.user_id) if chat != item.chat), None)
        if other is None:
            return None
        now = self.clock()
        copy = NewMessage(
            f"resent:{item.id}{REROUTED}", other, item.user_id, item.locale, item.payload, now, item.job_run_id
        )
        await tx.enqueue_many([copy], now)
        await tx.use_channel(item.user_id, other.partition(":")[0])
        log.info("outbox item %s refused by %s; sent on to %s", id, item.chat, other)
        return other

    async def delivered(self, keys: Iterable[str]) -> None:
        """The channel delivered these kept messages as the direct answer to an update: none goes again."""
        keys = list(keys)
        if keys:
            async with self.store.transaction() as tx:
                for key in keys:
                    await tx.mark_delivered(key, self.clock())

    async def report(self, job_run_id: int) -> dict[str, int]:
        """Counts by status of a job run's messages: pending, sent, failed, blocked."""
        async with self.store.transaction() as tx:
            return await tx.delivery_report(job_run_id)

    async def prune(self, keep: timedelta, *, chunk: int = CHUNK) -> int:
        """Delete finished messages last due more than `keep` ago, `chunk` per transaction; returns how many."""
        before = self.clock() - keep
        return await delete_in_chunks(self.store, lambda tx, n: tx.prune_outbox(before=before, limit=n), chunk)

    async def prune_blobs(self, keep: timedelta) -> int:
        """Delete shared files (charts) stored more than `keep` ago that no message waiting to be sent uses."""
        async with self.store.transaction() as tx:
            return await tx.prune_blobs(before=self.clock() - keep)

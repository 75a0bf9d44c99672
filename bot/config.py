"""Configuration: `bot.toml` validated as typed sections, with SANGKIEN_* environment overrides."""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from bot.leaderboard import Points

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "bot.toml"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{ROOT / 'data' / 'sangkien.db'}"
CHANNELS = ("telegram", "console", "zalo")  # the channel names a person's `channel:id` may start with


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line that says what to change."""


def person_key(value: object) -> str:
    """An admin as `channel:id`: a bare number is a Telegram user id, `channel:id` names another channel."""
    text = str(value).strip()
    if isinstance(value, int) or text.isdigit():
        return f"telegram:{text}"
    channel, colon, external = text.partition(":")
    if colon and channel in CHANNELS and external.strip() == external and external:
        return text
    raise ValueError(
        f"{text!r} is not a person: write a Telegram user id (123456789) or channel:id ({', '.join(CHANNELS)}),"
        " e.g. console:boss"
    )


class Category(BaseModel):
    """A campaign category; labels fall back to the locale catalogue (`category.<key>`)."""

    key: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    vi: str | None = None
    en: str | None = None


DEFAULT_CATEGORIES = [
    Category(key="pandemic"),
    Category(key="production"),
    Category(key="productivity"),
    Category(key="union"),
]


class UnitTarget(BaseModel):
    """A unit's own target in a campaign, optionally for one sector only."""

    unit: str
    target: int = Field(ge=0)
    sector: str | None = Field(default=None, pattern=r"^(enterprise|public)$")


class Campaign(BaseModel):
    """An emulation campaign: dates, target and categories."""

    key: str = Field(pattern=r"^[a-z0-9_\-]{1,32}$")
    name: str
    start: date
    end: date
    target: int = 0
    categories: list[Category] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    targets: list[UnitTarget] = Field(default_factory=list)

    def active_on(self, day: date) -> bool:
        """True when `day` lies within the campaign."""
        return self.start <= day <= self.end


class UnitSeed(BaseModel):
    """A unit to create at start-up (demo data or the real list of a federation)."""

    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    name: str
    parent: str | None = None
    sector: str = "enterprise"
    level: str = "grassroots"
    headcount: int = 0
    review_mode: str = Field(default="single", pattern=r"^(single|council)$")
    quorum: int = Field(default=1, ge=1)
    review_chat: str | None = None
    covers_below: bool = False


class BotSection(BaseModel):
    """General behaviour."""

    locale: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    admins: list[str] = Field(default_factory=list)  # `channel:id` (a bare number in bot.toml: a Telegram id)
    page_size: int = Field(default=5, ge=1, le=20)
    title_max: int = 200
    field_max: int = 4000
    decision_months: int = 3

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("locale must be vi or en")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _admin_keys(cls, value: object) -> list[str]:
        if not isinstance(value, list):
            raise ValueError('admins must be a list, e.g. [123456789, "console:boss"]')
        return [person_key(item) for item in value]


class DatabaseSection(BaseModel):
    """Where the data lives."""

    url: str = DEFAULT_DATABASE_URL


class TelegramSection(BaseModel):
    """How to reach Telegram."""

    token: str = ""
    base_url: str = ""
    base_file_url: str = ""
    webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")


class ZaloSection(BaseModel):
    """How to reach the Zalo Bot API."""

    token: str = ""
    base_url: str = "https://bot-api.zaloplatforms.com"
    webhook_secret: str = Field(default="", pattern=r"^$|^.{8,256}$")
    poll_timeout: int = Field(default=30, ge=1, le=60)
    request_timeout: float = Field(default=10, gt=0)
    files_dir: str = "data/files"
    sends_per_second: float = Field(default=10, gt=0)


class WebhookSection(BaseModel):
    """`sangkien run --webhook`: the public address and where the web app listens."""

    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    picture_minutes: int = Field(default=1440, ge=1)
    concurrency: int = Field(default=8, ge=1, le=256)


class JobSection(BaseModel):
    """One scheduled job: a crontab expression in the bot's time zone, a switch, a grace time."""

    cron: str
    enabled: bool = True
    grace_minutes: int = Field(default=120, ge=0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        CronTrigger.from_crontab(value)
        return value


class JobsSection(BaseModel):
    """The scheduled jobs and their settings."""

    leaderboard: JobSection = Field(default_factory=lambda: JobSection(cron="0 8 * * mon"))
    reminders: JobSection = Field(default_factory=lambda: JobSection(cron="0 9 * * *"))
    reviewer_digest: JobSection = Field(default_factory=lambda: JobSection(cron="0 8 * * mon-fri"))
    admin_report: JobSection = Field(default_factory=lambda: JobSection(cron="0 7 * * mon"))
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    draft_idle_hours: int = Field(default=24, ge=1)
    nudge_day: int = Field(default=15, ge=1, le=28)
    escalate_after_days: int = Field(default=14, ge=1)
    leaderboard_chats: list[str] = Field(default_factory=list)
    # Days a finished outbox message (sent, failed, blocked) is kept after it was last due; also how far
    # back idle drafts and waiting initiatives are looked for, since their outbox key is what stops a repeat.
    outbox_keep_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _keep_outlasts_lookbacks(self) -> JobsSection:
        """Outbox rows outlive the draft and escalation thresholds by a week, so each item meets a run."""
        if (
            self.outbox_keep_days < self.escalate_after_days + 7
            or self.outbox_keep_days * 24 < self.draft_idle_hours + 7 * 24
        ):
            raise ValueError(
                "jobs.outbox_keep_days must be at least 7 days more than escalate_after_days and draft_idle_hours"
            )
        return self

    def spec(self, name: str) -> JobSection:
        """The section of the job called `name`."""
        section = getattr(self, name, None)
        if not isinstance(section, JobSection):
            raise KeyError(name)
        return section


JOB_NAMES = ("leaderboard", "reminders", "reviewer_digest", "admin_report")


class LeaderboardSection(BaseModel):
    """How the weekly leaderboard scores and how many lines it shows."""

    points: Points = Field(default_factory=Points)
    top_n: int = Field(default=10, ge=1, le=20)


class Config(BaseModel):
    """The whole configuration."""

    bot: BotSection = Field(default_factory=BotSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    telegram: TelegramSection = Field(default_factory=TelegramSection)
    zalo: ZaloSection = Field(default_factory=ZaloSection)
    webhook: WebhookSection = Field(default_factory=WebhookSection)
    campaigns: list[Campaign] = Field(default_factory=list)
    units: list[UnitSeed] = Field(default_factory=list)
    jobs: JobsSection = Field(default_factory=JobsSection)
    leaderboard: LeaderboardSection = Field(default_factory=LeaderboardSection)


def _resolve_sqlite_path(url: str, base: Path) -> str:
    """Make a relative SQLite path in the config relative to the config file's folder."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/") and url != prefix:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


_OVERRIDES = (
    ("SANGKIEN_TELEGRAM_SECRET", "telegram", "webhook_secret"),
    ("SANGKIEN_ZALO_TOKEN", "zalo", "token"),
    ("SANGKIEN_ZALO_BASE_URL", "zalo", "base_url"),
    ("SANGKIEN_ZALO_SECRET", "zalo", "webhook_secret"),
    ("SANGKIEN_PUBLIC_URL", "webhook", "public_url"),
)


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Load `path` (or SANGKIEN_CONFIG, or bot.toml), then apply SANGKIEN_* overrides."""
    env = dict(os.environ if env is None else env)
    chosen = Path(path or env.get("SANGKIEN_CONFIG") or DEFAULT_CONFIG)
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8")) if chosen.exists() else {}
        config = Config.model_validate(data)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{chosen}: {error}") from None
    except ValidationError as error:
        raise ConfigError(f"{chosen}: {_first_problem(error)}") from None
    config.database.url = _resolve_sqlite_path(config.database.url, chosen.parent)
    config.zalo.files_dir = str((chosen.parent / config.zalo.files_dir).resolve())
    if env.get("SANGKIEN_DATABASE_URL"):
        config.database.url = env["SANGKIEN_DATABASE_URL"]
    if env.get("SANGKIEN_TELEGRAM_TOKEN"):
        config.telegram.token = env["SANGKIEN_TELEGRAM_TOKEN"]
    if env.get("SANGKIEN_TELEGRAM_BASE_URL"):
        config.telegram.base_url = env["SANGKIEN_TELEGRAM_BASE_URL"]
    if env.get("SANGKIEN_TELEGRAM_BASE_FILE_URL"):
        config.telegram.base_file_url = env["SANGKIEN_TELEGRAM_BASE_FILE_URL"]
    for name, section, key in _OVERRIDES:
        if env.get(name):
            setattr(getattr(config, section), key, env[name])
    if env.get("SANGKIEN_ADMINS"):
        ids = [part.strip() for part in env["SANGKIEN_ADMINS"].split(",") if part.strip()]
        try:
            config.bot.admins = [person_key(i) for i in ids]
        except ValueError as error:
            raise ConfigError(f"SANGKIEN_ADMINS: {error}") from None
    return config


def _first_problem(error: ValidationError) -> str:
    """The first validation problem as `section.key: what is wrong` (one line)."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {message}{more}"

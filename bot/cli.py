"""The `sangkien` command line: run the bot, the console channel, database migrations."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from bot.config import JOB_NAMES, Config, ConfigError, load_config

NO_TOKEN = """No Telegram or Zalo bot token is configured.

To run the bot on Telegram:
  1. In Telegram, open @BotFather, send /newbot and follow the steps; it answers with a token.
  2. export SANGKIEN_TELEGRAM_TOKEN=<that token>   (or set [telegram] token in bot.toml)
  3. run this command again.

To run it on Zalo (alone or beside Telegram): create a bot with the Zalo Bot Creator mini app in
Zalo, then export SANGKIEN_ZALO_TOKEN=<its token> (or set [zalo] token in bot.toml).

To try the bot without a token or network, use the console channel:
  sangkien console        (or: sangkien run --or-console)
"""


def _parser() -> argparse.ArgumentParser:
    """Describe the commands."""
    parser = argparse.ArgumentParser(prog="sangkien", description="Sáng kiến bot: workplace initiatives in chat.")
    parser.add_argument("--config", help="path to bot.toml (default: SANGKIEN_CONFIG or ./bot.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot on every channel that has a token (long polling)")
    run.add_argument("--or-console", action="store_true", help="without a token, run the console channel instead")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's and Zalo's webhooks, /healthz and /metrics at [webhook] public_url instead of polling",
    )
    run.add_argument("--user", default=None, help="console identity (default: your login name)")
    console = commands.add_parser("console", help="run the console channel in this terminal")
    console.add_argument("--user", default=None, help="console identity (default: your login name)")
    reviewers = commands.add_parser("reviewers", help="list, grant or revoke reviewer rights")
    reviewer_commands = reviewers.add_subparsers(dest="reviewers_command", required=True)
    reviewer_commands.add_parser("list", help="list active reviewers")
    for name in ("grant", "revoke"):
        sub = reviewer_commands.add_parser(name, help=f"{name} reviewer rights on a unit")
        sub.add_argument("person", help="@username, phone, Telegram user id, channel:id (console:lan) or full name")
        sub.add_argument("unit", help="unit code, e.g. MAY10")
    jobs = commands.add_parser("jobs", help="list the scheduled jobs, or run one now")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    job_commands.add_parser("list", help="every job with its schedule, next and last run")
    run_job = job_commands.add_parser("run", help="run a job now (its messages go to the outbox)")
    run_job.add_argument("name", choices=JOB_NAMES)
    run_job.add_argument("--send", action="store_true", help="also send the outbox now (needs a bot token)")
    campaigns = commands.add_parser("campaigns", help="list campaigns with progress, or change one")
    campaign_commands = campaigns.add_subparsers(dest="campaigns_command", required=True)
    campaign_commands.add_parser("list", help="every campaign with its progress")
    change = campaign_commands.add_parser(
        "change", help="e.g. `c2026 end 31/12/2027`, `c2026 target 1000 MAY10`, `new KEY START END NAME…`"
    )
    change.add_argument("words", nargs="+")
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations")
    return parser


def _console(config: Config, user: str | None) -> int:
    """Run the console channel."""
    from bot.app import run_console

    asyncio.run(run_console(config, user or getpass.getuser()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `sangkien` and `python -m bot`."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"sangkien: {error}", file=sys.stderr)
        return 2
    if args.command == "db":
        from storage.migrate import upgrade_sync

        upgrade_sync(config.database.url)
        print(f"database is up to date: {config.database.url}")
        return 0
    if args.command in ("jobs", "campaigns"):
        from bot.app import run_campaigns, run_jobs

        if args.command == "jobs":
            name, send = getattr(args, "name", ""), getattr(args, "send", False)
            return asyncio.run(run_jobs(config, args.jobs_command, name, send=send))
        return asyncio.run(run_campaigns(config, getattr(args, "words", [])))
    if args.command == "reviewers":
        from bot.app import run_reviewers

        return asyncio.run(
            run_reviewers(
                config,
                args.reviewers_command,
                getattr(args, "person", ""),
                getattr(args, "unit", ""),
            )
        )
    if args.command == "console":
        return _console(config, args.user)
    if args.webhook:
        if not (config.telegram.token or config.zalo.token):
            print(NO_TOKEN, file=sys.stderr)
            return 2
        if not config.webhook.public_url:
            print("--webhook needs [webhook] public_url in bot.toml (or SANGKIEN_PUBLIC_URL).", file=sys.stderr)
            return 2
        from bot.serve import serve_webhook

        asyncio.run(serve_webhook(config))
        return 0
    if not config.telegram.token and config.zalo.token:
        from bot.app import run_zalo

        asyncio.run(run_zalo(config))
        return 0
    if not config.telegram.token:
        print(NO_TOKEN, file=sys.stderr)
        return _console(config, args.user) if args.or_console else 2
    from bot.app import run_telegram

    run_telegram(config)
    return 0

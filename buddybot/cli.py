"""`buddybot run | demo | sync | health | db upgrade | db backup` — the console entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

import discord

from buddybot.progress import Progress
from buddybot.settings import TOKEN_HELP, Settings
from buddybot.storage.db import Database

log = logging.getLogger("buddybot")


def _token(settings: Settings) -> str:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(TOKEN_HELP, file=sys.stderr)
        raise SystemExit(2)
    return settings.discord_token.get_secret_value().strip()


async def _run(settings: Settings) -> None:
    from buddybot.bot import BuddyBot

    token = _token(settings)
    bot = BuddyBot(settings)
    close_on_signals(bot)
    async with bot:
        await bot.start(token)


def close_on_signals(bot: discord.Client) -> None:
    """SIGTERM/SIGINT close the bot: the gateway closes, in-flight units finish, the database closes."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))


async def _sync(settings: Settings, guild_id: int | None) -> None:
    from buddybot.bot import BuddyBot

    token = _token(settings)
    bot = BuddyBot(settings, sync_commands=False)
    async with bot:
        await bot.login(token)
        await bot.sync_if_changed(force=True, guild_id=guild_id)


async def _upgrade(settings: Settings) -> None:
    db = Database(settings.db_path)
    applied = await db.open()
    await db.close()
    print(f"{settings.db_path}: " + (f"applied {', '.join(applied)}" if applied else "already up to date"))


async def _backup(settings: Settings, target: str, *, force_progress: bool = False) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        with Progress("backup", 0, unit="pages", force=force_progress) as bar:
            await db.backup(target, progress=lambda done, total: bar.update(done, total=total))
    finally:
        await db.close()
    print(f"backed up {settings.db_path} to {target}")


def _health(settings: Settings) -> int:
    """For HEALTHCHECK and monitoring: the database exists, opens and answers (nothing is created or migrated)."""
    where = settings.db_path
    if "://" not in where and where != ":memory:" and not Path(where).is_file():
        print(f"unhealthy: no database at {where} (has the bot started with this BUDDYBOT_DB?)")
        return 1
    try:
        guilds = asyncio.run(_count_guilds(where))
    except Exception as exc:  # any failure is the answer, reported in one line
        print(f"unhealthy: {where}: {type(exc).__name__}: {exc}")
        return 1
    print(f"ok: {where} opens and answers ({guilds} configured server(s))")
    return 0


async def _count_guilds(where: str) -> int:
    db = Database(where)
    await db.open(migrate=False)
    try:
        return await db.read(lambda conn: conn.execute("SELECT COUNT(*) FROM guild_config").fetchone()[0])
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="buddybot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="connect to Discord and serve (needs DISCORD_TOKEN)")
    demo = sub.add_parser("demo", help="play a scripted community offline and print what Discord would show")
    demo.add_argument("--db", help="keep the demo database here (default: a temporary folder)")
    sync = sub.add_parser("sync", help="push the slash commands to Discord now")
    sync.add_argument("--guild", type=int, help="sync to one guild only (instant, for development)")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")
    backup = db_sub.add_parser("backup", help="consistent online backup")
    backup.add_argument("path")
    backup.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    health_help = "check the database opens and answers (exit 0 ok, 1 not): for HEALTHCHECK"
    sub.add_parser("health", help=health_help, description=health_help)
    args = parser.parse_args(argv)

    settings = Settings()
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    if args.command in ("demo", "health"):
        level = logging.ERROR  # the transcript is the output; discord.py's connection chatter is noise here
    discord.utils.setup_logging(level=level, root=True)
    if args.command == "run":
        asyncio.run(_run(settings))
    elif args.command == "sync":
        asyncio.run(_sync(settings, args.guild or settings.dev_guild_id))
    elif args.command == "demo":
        from buddybot.demo import run_demo

        asyncio.run(run_demo(args.db))
    elif args.command == "db" and args.db_command == "upgrade":
        asyncio.run(_upgrade(settings))
    elif args.command == "db" and args.db_command == "backup":
        asyncio.run(_backup(settings, args.path, force_progress=args.progress))
    elif args.command == "health":
        raise SystemExit(_health(settings))


if __name__ == "__main__":
    main()

"""`buddybot run | demo | sync | health | db upgrade | db backup | db copy` — the console entry point."""

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


async def _run(
    settings: Settings, shard_count: int | None = None, shard_ids: list[int] | None = None
) -> None:
    from buddybot.bot import make_bot

    token = _token(settings)
    bot = make_bot(settings, shard_count=shard_count, shard_ids=shard_ids)
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


def _copy(source: str, target: str, force: bool) -> None:
    from buddybot.storage import copy

    try:
        reports = copy.copy(source, target, force=force)
    except copy.CopyRefused as refused:
        print(f"not copied: {refused}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{'table':<24} {'rows':>12} {'checksum':>18}  same")
    for r in reports:
        print(f"{r.table:<24} {r.target_rows:>12,} {r.target_sum:>18}  {'yes' if r.equal else 'NO'}")
    different = [r.table for r in reports if not r.equal]
    if different:
        print(f"the copy differs from the source in: {', '.join(different)}", file=sys.stderr)
        raise SystemExit(1)
    print(
        f"copied {sum(r.source_rows for r in reports):,} rows in {len(reports)} tables; counts and checksums match"
    )


def _shard_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"shard ids are numbers separated by commas, not {text!r}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="buddybot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="connect to Discord and serve (needs DISCORD_TOKEN)")
    run.add_argument("--shard-count", type=int, help="total shards across all processes (default: Discord's)")
    run.add_argument("--shard-ids", type=_shard_list, help="the shards this process serves, e.g. 0,1")
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

    copy = db_sub.add_parser(
        "copy", help="copy every row from one database to another (SQLite <-> PostgreSQL)"
    )
    copy.add_argument("source", help="a SQLite path or a postgresql:// URL")
    copy.add_argument("target", help="a SQLite path or a postgresql:// URL (must be empty)")
    copy.add_argument("--force", action="store_true", help="replace whatever the target holds")
    args = parser.parse_args(argv)

    settings = Settings()
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    if args.command in ("demo", "health"):
        level = logging.ERROR  # the transcript is the output; discord.py's connection chatter is noise here
    discord.utils.setup_logging(level=level, root=True)
    if args.command == "run":
        if args.shard_ids is not None or args.shard_count is not None:
            from buddybot.bot import check_shards

            try:
                check_shards(args.shard_count, args.shard_ids)
            except ValueError as error:
                parser.error(str(error))
        asyncio.run(_run(settings, args.shard_count, args.shard_ids))
    elif args.command == "sync":
        asyncio.run(_sync(settings, args.guild or settings.dev_guild_id))
    elif args.command == "demo":
        from buddybot.demo import run_demo

        asyncio.run(run_demo(args.db))
    elif args.command == "db" and args.db_command == "upgrade":
        asyncio.run(_upgrade(settings))
    elif args.command == "db" and args.db_command == "backup":
        asyncio.run(_backup(settings, args.path, force_progress=args.progress))
    elif args.command == "db" and args.db_command == "copy":
        _copy(args.source, args.target, args.force)
    elif args.command == "health":
        raise SystemExit(_health(settings))


if __name__ == "__main__":
    main()

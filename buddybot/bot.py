"""The bot class: owns the database and the clock, loads the cogs, syncs commands only when they change."""

from __future__ import annotations

import hashlib
import json
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

from buddybot.errors import BuddyError
from buddybot.settings import Settings
from buddybot.storage import config as config_sql
from buddybot.storage.db import Database

log = logging.getLogger(__name__)


def discover_extensions() -> tuple[str, ...]:
    """Every module in cogs/ that defines setup(bot); helpers (common, names starting with _) are skipped."""
    import cogs

    names = []
    for module in pkgutil.iter_modules(cogs.__path__):
        if module.name.startswith("_") or module.name == "common":
            continue
        names.append(f"cogs.{module.name}")
    return tuple(sorted(names))


EXTENSIONS = discover_extensions()
COMMAND_HASH_KEY = "command_tree_sha256"
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again in a minute."


def utcnow() -> datetime:
    return datetime.now(UTC)


def intents() -> discord.Intents:
    """Guilds only: every interaction carries its member, so no privileged intents and no member cache."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply privately, whether or not the interaction was already answered."""
    if interaction.response.is_done():
        await interaction.followup.send(
            content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
    else:
        await interaction.response.send_message(
            content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """The one place that turns an exception into what the user sees (commands, views, dynamic items)."""
    original = error
    while isinstance(original, (app_commands.CommandInvokeError, app_commands.TransformerError)) and (
        original.__cause__ is not None or getattr(original, "original", None) is not None
    ):
        nxt = getattr(original, "original", None) or original.__cause__
        if nxt is None or nxt is original:
            break
        original = nxt
    if isinstance(original, BuddyError):
        message = original.message
    elif isinstance(original, app_commands.NoPrivateMessage):
        message = "BuddyBot works inside the community server, not in direct messages."
    elif isinstance(original, (app_commands.MissingPermissions, app_commands.CheckFailure)):
        message = "Only moderators can do that."
    elif isinstance(original, app_commands.TransformerError):
        message = f"I couldn't understand “{discord.utils.escape_mentions(str(original.value))[:60]}”."
    elif isinstance(original, app_commands.CommandOnCooldown):
        message = f"Slow down a little: try again in {original.retry_after:.0f} s."
    else:
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error(
            "unexpected error in %s (guild %s, user %s)",
            command,
            interaction.guild_id,
            interaction.user.id,
            exc_info=original,
        )
        message = APOLOGY
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id, exc_info=True)


class BuddyTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class BuddyBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        clock: Callable[[], datetime] = utcnow,
        sync_commands: bool = True,
        extensions: tuple[str, ...] = EXTENSIONS,
        **options: object,
    ) -> None:
        super().__init__(
            **options,
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=BuddyTree,
        )
        self.settings = settings
        self.db = db or Database(settings.db_path)
        self.clock = clock
        self.sync_commands = sync_commands
        self.extension_names = extensions
        # Post redraws the scheduler asks for, by kind ("need", "agreement", …): fn(guild_id, row_id).
        self.refreshers: dict[str, Callable[[int, int], Awaitable[None]]] = {}

    def now(self) -> datetime:
        return self.clock()

    async def setup_hook(self) -> None:
        if not self.db.is_open:
            await self.db.open()
        for name in self.extension_names:
            await self.load_extension(name)
        if self.sync_commands:
            await self.sync_if_changed()
        self.idle_checkpoint.start()

    @tasks.loop(seconds=0.5)
    async def idle_checkpoint(self) -> None:
        """Checkpoint the WAL between interactions, never inside one (see storage/db.py)."""
        try:
            await self.db.checkpoint_if_idle()
        except Exception:
            log.exception("idle WAL checkpoint failed; SQLite's own checkpoint remains as a safety net")

    def command_tree_hash(self, guild: discord.abc.Snowflake | None = None) -> str:
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_if_changed(self, *, force: bool = False, guild_id: int | None = None) -> bool:
        """Sync with Discord only when the command tree differs from the last synced one (rate limits)."""
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        key = f"{COMMAND_HASH_KEY}:{guild_id or 'global'}"
        digest = self.command_tree_hash(guild)
        stored = await self.db.read(config_sql.get_meta, key)
        if stored == digest and not force:
            log.info("commands unchanged since last sync; not syncing")
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError):
            # Serve with the commands Discord already has; the hash is not stored, so the next start retries.
            log.exception("command sync failed; serving with the commands Discord already has")
            return False
        await self.db.write(config_sql.set_meta, key, digest)
        log.info("synced %d commands (%s)", len(synced), guild_id or "global")
        return True

    async def close(self) -> None:
        self.idle_checkpoint.cancel()
        try:
            await super().close()
        finally:
            await self.db.close()


class ShardedBuddyBot(BuddyBot, commands.AutoShardedBot):
    """BuddyBot serving the shards `shard_ids` of `shard_count` in this process (discord.py's AutoShardedBot).

    Several such processes share one PostgreSQL. Whatever must happen once happens once: the command
    sync only in the process that runs shard 0, background work through the jobs table's claims.
    """


def make_bot(
    settings: Settings, *, shard_count: int | None = None, shard_ids: list[int] | None = None
) -> BuddyBot:
    """The default is one process, discord.py choosing the shard count; with flags, a sharded process."""
    if shard_count is None and shard_ids is None:
        return BuddyBot(settings)
    ids = check_shards(shard_count, shard_ids)
    return ShardedBuddyBot(settings, shard_count=shard_count, shard_ids=ids, sync_commands=0 in ids)


def check_shards(shard_count: int | None, shard_ids: list[int] | None) -> list[int]:
    if shard_count is None or shard_count < 1:
        raise ValueError("--shard-count N (at least 1) is needed with --shard-ids")
    ids = sorted(set(shard_ids if shard_ids is not None else range(shard_count)))
    if not ids or ids[0] < 0 or ids[-1] >= shard_count:
        raise ValueError(f"shard ids must be between 0 and {shard_count - 1}: {shard_ids}")
    return ids

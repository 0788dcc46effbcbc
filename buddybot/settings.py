"""All configuration, read once from the environment and `.env`. Nothing else reads os.environ."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    db_path: str = Field(default="./buddybot.sqlite3", validation_alias="BUDDYBOT_DB")
    log_level: str = Field(default="INFO", validation_alias="BUDDYBOT_LOG_LEVEL")
    dev_guild_id: int | None = Field(default=None, validation_alias="BUDDYBOT_DEV_GUILD")


TOKEN_HELP = """\
DISCORD_TOKEN is not set, so BuddyBot cannot log in.

1. Open https://discord.com/developers/applications and create an application (New Application).
2. Under "Bot", press "Reset Token" and copy the token. No privileged intents are needed.
3. Put it in the environment or in a .env file next to where you run the bot:
       DISCORD_TOKEN=your-token-here
4. Invite the bot: OAuth2 -> URL Generator, scopes `bot applications.commands`, permissions
   Send Messages, Create Public Threads, Send Messages in Threads, Embed Links, Attach Files.

Want to see it work first, offline? Run:  buddybot demo
"""

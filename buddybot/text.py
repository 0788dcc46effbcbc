"""Checks for free text members type: length, control characters, and anything that could ping."""

from __future__ import annotations

import re
import unicodedata

from buddybot.errors import BuddyError

_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>]*$", re.IGNORECASE)
_ALLOWED_CONTROL = {"\n"}


def clean_text(
    value: str | None, field: str, max_length: int, *, required: bool = False, multiline: bool = False
) -> str | None:
    """Trimmed text, or None when empty and optional. Refuses mentions and control characters."""
    if value is None or not value.strip():
        if required:
            raise BuddyError(f"Please fill in {field}.")
        return None
    text = unicodedata.normalize("NFC", value).strip()
    allowed = _ALLOWED_CONTROL if multiline else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise BuddyError(f"{field.capitalize()} contains control characters; please type plain text.")
    if len(text) > max_length:
        raise BuddyError(
            f"{field.capitalize()} can be at most {max_length} characters (you sent {len(text)})."
        )
    if _MENTION.search(text):
        raise BuddyError(
            f"{field.capitalize()} can't contain mentions such as @everyone, @here, roles or members."
        )
    return text


def clean_url(value: str | None) -> str | None:
    text = clean_text(value, "website", 200)
    if text is None:
        return None
    if not _URL.match(text):
        raise BuddyError("Website should be a full address starting with https://, e.g. https://example.com")
    return text


def quote_back(text: str) -> str:
    """User text safe to quote in a reply: printable, short, and unable to ping anyone."""
    shown = "".join(ch for ch in text.strip() if ch.isprintable())
    if len(shown) > 40:
        shown = shown[:40] + "…"
    return shown.replace("@", "@\u200b")

"""Checks for free text members type: length, control and invisible characters, anything that could ping."""

from __future__ import annotations

import re
import unicodedata

from buddybot.errors import BuddyError

_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>]*$", re.IGNORECASE)
_ALLOWED_CONTROL = {"\n"}
ZWJ = "\u200d"
# Characters that change how text reads without being seen: bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069, U+061C) and zero-width or invisible ones (U+200B-U+200F, U+2060,
# U+FEFF, the soft hyphen...). They are all of Unicode category Cf ("format"); every Cf character is
# refused except the two that emoji need: U+200D joining two emoji (a ZWJ sequence such as a family or a
# rainbow flag) and the tag characters of a subdivision flag (U+1F3F4, tags, U+E007F).
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_EMOJI_MODIFIERS = {"\ufe0f", "\ufe0e"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def mention(user_id: int) -> str:
    """A member mention, or "a former member" for the placeholder id an erasure left (never `<@-1>`)."""
    return f"<@{user_id}>" if user_id > 0 else "a former member"


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or ord(ch) >= 0x1F000


def _emoji_zwj(text: str, i: int) -> bool:
    """Is the U+200D at `i` joining two emoji (skin tones and variation selectors may sit before it)?"""
    before = i - 1
    while before >= 0 and text[before] in _EMOJI_MODIFIERS:
        before -= 1
    return before >= 0 and i + 1 < len(text) and _is_emoji(text[before]) and _is_emoji(text[i + 1])


def _flag_tag(text: str, i: int) -> bool:
    """Is the tag character at `i` part of a subdivision flag (U+1F3F4, tag letters, U+E007F)?"""
    start = text.rfind(_BLACK_FLAG, 0, i)
    end = text.find(_CANCEL_TAG, i)
    span = text[start + 1 : end + 1] if start >= 0 and end >= 0 else ""
    return bool(span) and all(0xE0020 <= ord(ch) <= 0xE007F for ch in span)


def hidden_characters_at(text: str) -> list[int]:
    """Positions of invisible or direction-changing characters in `text` (emoji joiners allowed)."""
    found = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) != "Cf":
            continue
        if (ch == ZWJ and _emoji_zwj(text, i)) or (0xE0020 <= ord(ch) <= 0xE007F and _flag_tag(text, i)):
            continue
        found.append(i)
    return found


def hidden_characters(text: str) -> list[str]:
    """The invisible or direction-changing characters in `text`, as U+XXXX."""
    return [f"U+{ord(text[i]):04X}" for i in hidden_characters_at(text)]


def clean_text(
    value: str | None, field: str, max_length: int, *, required: bool = False, multiline: bool = False
) -> str | None:
    """Trimmed text, or None when empty and optional. Refuses mentions, control and hidden characters."""
    if value is None or not value.strip():
        if required:
            raise BuddyError(f"Please fill in {field}.")
        return None
    text = unicodedata.normalize("NFC", value).strip()
    allowed = _ALLOWED_CONTROL if multiline else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise BuddyError(f"{field.capitalize()} contains control characters; please type plain text.")
    hidden = hidden_characters(text)
    if hidden:
        raise BuddyError(
            f"{field.capitalize()} contains invisible or direction-changing characters "
            f"({', '.join(dict.fromkeys(hidden))}), which can make text read differently from what it is. "
            "Please type it again as plain text."
        )
    if len(text) > max_length:
        raise BuddyError(
            f"{field.capitalize()} can be at most {max_length} characters (you sent {len(text)})."
        )
    if _MENTION.search(text):
        raise BuddyError(
            f"{field.capitalize()} can't contain mentions such as @everyone, @here, roles or members."
        )
    return text


def visible(text: str) -> str:
    """Text Discord gave us (display names) with its hidden characters dropped, for labels and exports."""
    hidden = {i for i, ch in enumerate(text) if unicodedata.category(ch) == "Cf"} if text else set()
    if not hidden:
        return text
    kept = set(hidden_characters_at(text))
    return "".join(ch for i, ch in enumerate(text) if i not in kept)


def fold(text: str) -> str:
    """The form two names are compared in: NFKC, case-folded, trimmed, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


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

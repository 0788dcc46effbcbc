"""Skill names: normalisation, aliases and autocomplete ranking. Pure functions, no I/O."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from buddybot.errors import BuddyError

MAX_SKILL_LENGTH = 60
MAX_SKILLS_PER_MEMBER = 15
AUTOCOMPLETE_LIMIT = 25

_SPACES = re.compile(r"\s+")
_ALLOWED = re.compile(r"^[\w][\w &+'./#-]*$")


def normalise(text: str) -> str:
    """Trimmed, case-folded, inner spaces collapsed, unicode NFKC (so full-width letters match)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", text).strip().casefold()


def validate_skill(text: str) -> str:
    """Normalise and check a skill typed by a member; BuddyError explains what is wrong."""
    skill = normalise(text)
    if not skill:
        raise BuddyError("Please name a skill, for example `bookkeeping` or `web design`.")
    if len(skill) > MAX_SKILL_LENGTH:
        raise BuddyError(f"A skill name can be at most {MAX_SKILL_LENGTH} characters.")
    if not _ALLOWED.match(skill):
        raise BuddyError(
            "A skill name can use letters, numbers, spaces and `& + ' . / # -` only, "
            "for example `web design` or `c#`."
        )
    return skill


def resolve(skill: str, aliases: Mapping[str, str]) -> str:
    """Map a normalised skill through the alias table ("web dev" -> "web development")."""
    return aliases.get(skill, skill)


def rank_choices(query: str, names: Iterable[str], limit: int = AUTOCOMPLETE_LIMIT) -> list[str]:
    """Autocomplete order: prefix matches, then word-prefix and substring matches, then fuzzy ones."""
    q = normalise(query)
    pool = sorted(set(names))
    if not q:
        return pool[:limit]
    prefix = [n for n in pool if n.startswith(q)]
    seen = set(prefix)
    inner = [n for n in pool if n not in seen and q in n]
    inner.sort(key=lambda n: (not any(word.startswith(q) for word in n.split()), n))
    seen.update(inner)
    result = prefix + inner
    if len(result) < limit:
        rest = [n for n in pool if n not in seen]
        fuzzy = difflib.get_close_matches(q, rest, n=limit - len(result), cutoff=0.6)
        result += fuzzy
    return result[:limit]

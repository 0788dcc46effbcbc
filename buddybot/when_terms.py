"""The vocabulary of when-expressions: one phrase ("next month", "20/12", "the 20th") to dates.

`when.py` joins phrases into ranges and applies the window rules; this module only knows what a
single phrase means relative to a reference day. Numeric dates are read in the guild's locale order.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from buddybot.errors import BuddyError
from buddybot.text import quote_back

EXAMPLES = (
    "today, asap, tomorrow, this week, rest of the week, next week, this weekend, next monday, "
    "in 3 days, for 2 weeks, next 3 days, a fortnight, this month, next month, end of the month, "
    "january, the 20th, mon-fri, 1 dec, 1-5 dec, 20/12, 20.12.2026, 2026-12-01 to 2026-12-05, until friday"
)
DEFAULT_LOCALE = "en-GB"
# Discord locales whose short numeric dates put the month first ("12/20"); all others read day first.
MONTH_FIRST_LOCALES = frozenset({"en-US", "ja", "ko", "zh-CN", "zh-TW"})

_FULL_MONTHS = "january february march april may june july august september october november december".split()
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
MONTHS = {name: i + 1 for i, name in enumerate(_FULL_MONTHS)}
MONTHS |= {name[:3]: i + 1 for i, name in enumerate(_FULL_MONTHS)} | {"sept": 9}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def _alternatives(words: dict[str, int]) -> str:
    """Regex alternation, longest first so "monday" is not read as "mon" + "day"."""
    return "|".join(sorted(words, key=len, reverse=True))


_WD = _alternatives(_WEEKDAYS)
_MON = _alternatives(MONTHS)
_NUM = rf"(\d{{1,3}}|{_alternatives(_NUMBERS)})"
_UNIT = r"(day|week|fortnight|month)s?"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_DAY_MONTH = re.compile(rf"(?:the\s+)?{_ORD}\s*(?:of\s+)?({_MON})(?:\s+(\d{{4}}))?")
_MONTH_DAY = re.compile(rf"({_MON})\s*(?:the\s+)?{_ORD}(?:\s+(\d{{4}}))?")
_MONTH = re.compile(rf"(?:in\s+|all\s+(?:of\s+)?)?({_MON})(?:\s+(\d{{4}}))?")
_ORDINAL = re.compile(r"(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)|(?:on\s+)?the\s+(\d{1,2})")
_BARE_DAY = re.compile(rf"(?:the\s+)?{_ORD}")
_WEEKDAY = re.compile(rf"(?:(this|next|on)\s+)?({_WD})")
_OFFSET = re.compile(rf"(in|within)\s+{_NUM}\s+{_UNIT}")
_SPAN = re.compile(
    rf"(?:for|over|during)?\s*(?:the\s+)?(?:next|coming)\s+{_NUM}\s+{_UNIT}|for\s+{_NUM}\s+{_UNIT}"
)
_FORTNIGHT = re.compile(r"(?:for\s+|the\s+next\s+|next\s+)?a?\s*fortnight")


@dataclass(frozen=True)
class Fixed:
    start: date
    end: date


@dataclass(frozen=True)
class Weekday:
    index: int


@dataclass(frozen=True)
class DayMonth:
    day: int
    month: int
    year: int | None


@dataclass(frozen=True)
class Month:
    """A whole calendar month ("january"): the first one that has not ended yet."""

    month: int
    year: int | None


@dataclass(frozen=True)
class Day:
    """A day of the month: "the 20th" on its own, or a bare "5" next to a day-month ("1-5 dec")."""

    day: int
    alone: bool = False  # True when written so it can stand alone ("20th", "the 20th")


Term = Fixed | Weekday | DayMonth | Month | Day


def unreadable(text: str, why: str = "") -> BuddyError:
    return BuddyError(f"I couldn't read “{quote_back(text)}” as a date{why}. Try: {EXAMPLES}.")


def real_date(year: int, month: int, day: int, text: str, why: str = " (that day doesn't exist)") -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise unreadable(text, why) from None


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_first(locale: str | None) -> bool:
    """True when the guild's locale writes "12/20" for 20 December (en-US, ja, ko, zh)."""
    return (locale or DEFAULT_LOCALE) in MONTH_FIRST_LOCALES


def _day_month(
    day: int, month: int, year: int | None, text: str, why: str = " (that day doesn't exist)"
) -> DayMonth:
    """Check the day exists in that month (in any year, so 29 feb is allowed)."""
    real_date(year or 2000, month, day, text, why)
    return DayMonth(day, month, year)


def _numeric(m: re.Match[str], locale: str | None, text: str) -> DayMonth:
    """20/12, 12/20 (month-first locales), 20.12.2026 (dots are always day.month), 20/12/26."""
    a, b = int(m[1]), int(m[3])
    if m[2] == "/" and month_first(locale):
        a, b = b, a
        order = "month/day"
    else:
        order = "day/month" if m[2] == "/" else "day.month"
    year = None if m[4] is None else int(m[4]) + (2000 if len(m[4]) == 2 else 0)
    why = f" (this server reads numeric dates as {order}, language {locale or DEFAULT_LOCALE})"
    return _day_month(a, b, year, text, why if b > 12 >= a else " (that day doesn't exist)")


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _later(today: date, n: int, unit: str) -> date:
    if unit == "fortnight":
        return today + timedelta(weeks=2 * n)
    return today + relativedelta(**{unit + "s": n})


def _fixed_phrases(today: date) -> dict[str, tuple[date, date]]:
    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    saturday = today - timedelta(days=1) if today.weekday() == 6 else monday + timedelta(days=5)
    tomorrow = today + timedelta(days=1)
    next_month = month_end(today) + timedelta(days=1)
    weekend = (max(saturday, today), saturday + timedelta(days=1))
    return {
        "today": (today, today),
        "tonight": (today, today),
        "now": (today, today),
        "right now": (today, today),
        "asap": (today, today),
        "as soon as possible": (today, today),
        "tomorrow": (tomorrow, tomorrow),
        "tmrw": (tomorrow, tomorrow),
        "this week": (today, sunday),
        "rest of the week": (today, sunday),
        "rest of this week": (today, sunday),
        "the rest of the week": (today, sunday),
        "next week": (monday + timedelta(days=7), monday + timedelta(days=13)),
        "this weekend": weekend,
        "weekend": weekend,
        "next weekend": (saturday + timedelta(days=7), saturday + timedelta(days=8)),
        "this month": (today, month_end(today)),
        "rest of the month": (today, month_end(today)),
        "rest of this month": (today, month_end(today)),
        "the rest of the month": (today, month_end(today)),
        "next month": (next_month, month_end(next_month)),
        "end of the month": (month_end(today), month_end(today)),
        "end of this month": (month_end(today), month_end(today)),
        "end of month": (month_end(today), month_end(today)),
        "end of next month": (month_end(next_month), month_end(next_month)),
    }


def term(s: str, today: date, text: str, locale: str | None) -> Term | None:
    """One phrase (a day, a fixed span, or something resolved later), or None if `s` isn't one."""
    if (fixed := _fixed_phrases(today).get(s.removeprefix("the "))) is not None:
        return Fixed(*fixed)
    if m := _WEEKDAY.fullmatch(s):
        index = _WEEKDAYS[m[2]]
        if m[1] == "next":
            day = today - timedelta(days=today.weekday()) + timedelta(days=7 + index)
            return Fixed(day, day)
        return Weekday(index)
    if m := _OFFSET.fullmatch(s):
        later = _later(today, _count(m[2]), m[3])
        return Fixed(today if m[1] == "within" else later, later)
    if m := _SPAN.fullmatch(s):
        n, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        return Fixed(today, _later(today, _count(n), unit) - timedelta(days=1))
    if _FORTNIGHT.fullmatch(s):
        return Fixed(today, today + timedelta(days=13))
    if m := _ISO.fullmatch(s):
        day = real_date(int(m[1]), int(m[2]), int(m[3]), text)
        return Fixed(day, day)
    if m := _NUMERIC.fullmatch(s):
        return _numeric(m, locale, text)
    if m := _DAY_MONTH.fullmatch(s):
        return _day_month(int(m[1]), MONTHS[m[2]], int(m[3]) if m[3] else None, text)
    if m := _MONTH_DAY.fullmatch(s):
        return _day_month(int(m[2]), MONTHS[m[1]], int(m[3]) if m[3] else None, text)
    if m := _MONTH.fullmatch(s):
        return Month(MONTHS[m[1]], int(m[2]) if m[2] else None)
    if m := _ORDINAL.fullmatch(s):
        day = int(m[1] or m[2])
        if not 1 <= day <= 31:
            raise unreadable(text, " (no month has that day)")
        return Day(day, alone=True)
    if m := _BARE_DAY.fullmatch(s):
        return Day(int(m[1]))
    return None


def resolve(t: Term, ref: date, text: str) -> tuple[date, date]:
    """Pin a term to dates: weekdays, days and yearless dates take their first occurrence on/after `ref`."""
    match t:
        case Fixed(start, end):
            return start, end
        case Weekday(index):
            day = ref + relativedelta(weekday=index)
            return day, day
        case DayMonth(day, month, year) if year is not None:
            found = date(year, month, day)
            return found, found
        case DayMonth(day, month, None):
            for year in range(ref.year, ref.year + 5):  # five years always contains a 29 feb
                try:
                    found = date(year, month, day)
                except ValueError:
                    continue
                if found >= ref:
                    return found, found
        case Month(month, year):
            for y in [year] if year else [ref.year, ref.year + 1]:
                first = date(y, month, 1)
                if year or month_end(first) >= ref:
                    return first, month_end(first)
        case Day(day, alone=True):
            first = ref.replace(day=1)
            for months in range(13):  # the next month that has this day (31st skips short months)
                candidate = first + relativedelta(months=months)
                if day <= calendar.monthrange(candidate.year, candidate.month)[1]:
                    found = candidate.replace(day=day)
                    if found >= ref:
                        return found, found
    raise unreadable(text)

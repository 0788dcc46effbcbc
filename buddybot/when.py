"""Turn the date phrases busy owners type ("mon-fri", "1-5 dec", "until friday") into a date window.

Everything is computed from a `today` in the guild's time zone, so parsing is pure and easy to test.
No Discord types here: cogs call these functions and show BuddyError messages as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil import tz
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, model_validator

from buddybot.errors import BuddyError
from buddybot.text import quote_back

MAX_WINDOW_DAYS = 90
MAX_INPUT_CHARS = 100
EXAMPLES = (
    "today, tomorrow, this week, next week, this weekend, next monday, in 3 days, mon-fri, "
    "1 dec, 1-5 dec, 2026-12-01 to 2026-12-05, until friday"
)

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FULL_MONTHS = "january february march april may june july august september october november december".split()
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {name: i + 1 for i, name in enumerate(_FULL_MONTHS)}
_MONTHS |= {name[:3]: i + 1 for i, name in enumerate(_FULL_MONTHS)} | {"sept": 9}


def _alternatives(words: dict[str, int]) -> str:
    """Regex alternation, longest first so "monday" is not read as "mon" + "day"."""
    return "|".join(sorted(words, key=len, reverse=True))


_WD = _alternatives(_WEEKDAYS)
_MON = _alternatives(_MONTHS)
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_MONTH = re.compile(rf"(?:the\s+)?{_ORD}\s*(?:of\s+)?({_MON})(?:\s+(\d{{4}}))?")
_MONTH_DAY = re.compile(rf"({_MON})\s*(?:the\s+)?{_ORD}(?:\s+(\d{{4}}))?")
_BARE_DAY = re.compile(rf"(?:the\s+)?{_ORD}")
_WEEKDAY = re.compile(rf"(?:(this|next)\s+)?({_WD})")
_OFFSET = re.compile(r"(in|within)\s+(\d{1,3}|a|an|one)\s+(day|week|month)s?")
_UNTIL = re.compile(r"(?:until|till|til|up\s+to)\s+(.+)")
_SEPARATOR = re.compile(r"\s+(?:to|until|till|til|through|thru)\s+|\s*(?:-|\.\.)\s*")


class DateWindow(BaseModel):
    """An inclusive run of whole days; the unit busy/availability windows are stored in."""

    model_config = ConfigDict(frozen=True)

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self

    @property
    def days(self) -> int:
        """Number of days, counting both ends."""
        return (self.end - self.start).days + 1

    def overlaps(self, other: DateWindow) -> bool:
        """True when the two windows share at least one day."""
        return self.start <= other.end and other.start <= self.end

    def covers(self, other: DateWindow) -> bool:
        """True when every day of `other` is inside this window."""
        return self.start <= other.start and other.end <= self.end

    def describe(self) -> str:
        """Human text for replies, e.g. "Mon 1 Dec – Fri 5 Dec 2026"."""
        if self.start == self.end:
            return _day_text(self.start, with_year=True)
        same_year = self.start.year == self.end.year
        return f"{_day_text(self.start, with_year=not same_year)} – {_day_text(self.end, with_year=True)}"


def _day_text(day: date, *, with_year: bool) -> str:
    """Locale-independent "Mon 1 Dec [2026]"."""
    text = f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def valid_timezone(name: str) -> bool:
    """Only real IANA names (e.g. "Europe/London"): no local-time fallback, paths or POSIX TZ strings."""
    if not 0 < len(name) <= 64 or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*", name):
        return False
    return isinstance(tz.gettz(name), tz.tzfile | tz.tzutc)


def today_in(tz_name: str, now: datetime | None = None) -> date:
    """Today's date in the IANA zone (dateutil.tz.gettz); unknown zone -> BuddyError."""
    if not valid_timezone(tz_name):
        raise BuddyError(f"“{quote_back(tz_name)}” isn't a time zone I know. Use a name like Europe/London.")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # naive instants are taken as UTC, never as server-local time
    return now.astimezone(tz.gettz(tz_name)).date()


# Parsed phrases before they are pinned to dates: some need a reference day to resolve against.
@dataclass(frozen=True)
class _Fixed:
    start: date
    end: date


@dataclass(frozen=True)
class _Weekday:
    index: int


@dataclass(frozen=True)
class _DayMonth:
    day: int
    month: int
    year: int | None


@dataclass(frozen=True)
class _Day:
    """A bare "5" or "5th": only meaningful next to a day-month, as in "1-5 dec" or "dec 1-5"."""

    day: int


_Term = _Fixed | _Weekday | _DayMonth | _Day


def _unreadable(text: str, why: str = "") -> BuddyError:
    return BuddyError(f"I couldn't read “{quote_back(text)}” as a date{why}. Try: {EXAMPLES}.")


def _normalise(text: str) -> str:
    """Lower case, plain hyphens, single spaces, no trailing punctuation."""
    s = text.lower().replace("–", "-").replace("—", "-").replace("−", "-").replace(",", " ")
    return re.sub(r"\s+", " ", s).strip().rstrip(".!?;:").strip()


def _real_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _unreadable(text, " (that day doesn't exist)") from None


def _day_month(day: str, month: str, year: str | None, text: str) -> _DayMonth:
    """Check the day exists in that month (in any year, so 29 feb is allowed)."""
    dm = _DayMonth(int(day), _MONTHS[month], int(year) if year else None)
    _real_date(dm.year or 2000, dm.month, dm.day, text)
    return dm


def _term(s: str, today: date, text: str) -> _Term | None:
    """One single-day (or fixed) phrase, or None if `s` isn't one."""
    monday = today - timedelta(days=today.weekday())
    saturday = today - timedelta(days=1) if today.weekday() == 6 else monday + timedelta(days=5)
    fixed = {
        "today": (today, today),
        "tonight": (today, today),
        "tomorrow": (today + timedelta(days=1),) * 2,
        "tmrw": (today + timedelta(days=1),) * 2,
        "this week": (today, monday + timedelta(days=6)),
        "next week": (monday + timedelta(days=7), monday + timedelta(days=13)),
        "this weekend": (max(saturday, today), saturday + timedelta(days=1)),
        "weekend": (max(saturday, today), saturday + timedelta(days=1)),
        "next weekend": (saturday + timedelta(days=7), saturday + timedelta(days=8)),
    }
    if s in fixed:
        return _Fixed(*fixed[s])
    if m := _WEEKDAY.fullmatch(s):
        index = _WEEKDAYS[m[2]]
        if m[1] == "next":
            day = monday + timedelta(days=7 + index)
            return _Fixed(day, day)
        return _Weekday(index)
    if m := _OFFSET.fullmatch(s):
        n = int(m[2]) if m[2].isdigit() else 1
        later = today + relativedelta(**{m[3] + "s": n})
        return _Fixed(today if m[1] == "within" else later, later)
    if m := _ISO.fullmatch(s):
        day = _real_date(int(m[1]), int(m[2]), int(m[3]), text)
        return _Fixed(day, day)
    if m := _DAY_MONTH.fullmatch(s):
        return _day_month(m[1], m[2], m[3], text)
    if m := _MONTH_DAY.fullmatch(s):
        return _day_month(m[2], m[1], m[3], text)
    if m := _BARE_DAY.fullmatch(s):
        return _Day(int(m[1]))
    return None


def _resolve(term: _Term, ref: date, text: str) -> tuple[date, date]:
    """Pin a term to dates: weekdays and yearless dates take their first occurrence on/after `ref`."""
    match term:
        case _Fixed(start, end):
            return start, end
        case _Weekday(index):
            day = ref + relativedelta(weekday=index)
            return day, day
        case _DayMonth(day, month, year) if year is not None:
            found = date(year, month, day)
            return found, found
        case _DayMonth(day, month, None):
            for year in range(ref.year, ref.year + 5):  # five years always contains a 29 feb
                try:
                    found = date(year, month, day)
                except ValueError:
                    continue
                if found >= ref:
                    return found, found
    raise _unreadable(text)


def _end_from(term: _Term, start: date, text: str) -> date:
    """Right-hand end of a range, read relative to its start ("28 dec - 3 jan" crosses the year)."""
    if isinstance(term, _DayMonth) and term.year is None:
        same_year = date(start.year, term.month, term.day)
        if same_year >= start:
            return same_year
        # "28 dec - 3 jan" crosses into next year; "5 dec - 1 dec" is a typo, reported as reversed.
        return date(start.year + 1, term.month, term.day) if term.month != start.month else same_year
    return _resolve(term, start, text)[1]


def _range(a: _Term, b: _Term, today: date, text: str) -> tuple[date, date]:
    """Resolve "A - B": the start from A, the end from B read after that start."""
    if isinstance(a, _Weekday) and isinstance(b, _Weekday):
        length = (b.index - a.index) % 7
        into = (today.weekday() - a.index) % 7
        if into <= length:  # already inside the range: it runs from today
            return today, today + timedelta(days=length - into)
        start = today + timedelta(days=7 - into)
        return start, start + timedelta(days=length)
    if isinstance(a, _Day) and isinstance(b, _DayMonth):
        a = _DayMonth(a.day, b.month, b.year)
    elif isinstance(b, _Day) and isinstance(a, _DayMonth):
        b = _DayMonth(b.day, a.month, a.year)
    if isinstance(a, _Day) or isinstance(b, _Day):
        raise _unreadable(text)
    if isinstance(a, _DayMonth) and a.year is None:
        # The earliest occurrence that hasn't ended, so a range under way ("28 nov - 3 dec" on 2 Dec,
        # "28 dec - 3 jan" on 2 Jan) is the current one rather than next year's.
        first = today.year - 1 if isinstance(b, _DayMonth) and b.year is None else today.year
        for year in range(first, today.year + 2):
            start = date(year, a.month, a.day)
            span = start, _end_from(b, start, text)
            if span[1] >= today:
                break
        return span
    start = _resolve(a, today, text)[0]
    return start, _end_from(b, start, text)


def _span(s: str, today: date, text: str) -> tuple[date, date]:
    """A single phrase, or two phrases joined by to/until/-/..; tries each separator in turn."""
    if not s:
        raise _unreadable(text)
    term = _term(s, today, text)
    if term is not None and not isinstance(term, _Day):
        return _resolve(term, today, text)
    for sep in _SEPARATOR.finditer(s):
        a, b = _term(s[: sep.start()], today, text), _term(s[sep.end() :], today, text)
        if a is not None and b is not None:
            return _range(a, b, today, text)
    raise _unreadable(text)


def _window(start: date, end: date, today: date, *, until: bool) -> DateWindow:
    """Apply the rules every window obeys: ordered, not over, starts no earlier than today, ≤ 90 days."""
    if end < start:
        raise BuddyError("That window ends before it starts — put the earlier date first.")
    if end < today:
        over = DateWindow(start=start, end=end).describe()
        raise BuddyError(f"That window is already over ({over}). Pick dates from today onwards.")
    window = DateWindow(start=today if until else max(start, today), end=end)
    if window.days > MAX_WINDOW_DAYS:
        raise BuddyError(
            f"That window is {window.days} days long; it can be at most {MAX_WINDOW_DAYS} days. "
            "Try a shorter range."
        )
    return window


def _parse(text: str, today: date, *, until: bool) -> DateWindow:
    if len(text.strip()) > MAX_INPUT_CHARS:
        raise BuddyError(f"That's too long for a date — keep it under {MAX_INPUT_CHARS} characters.")
    s = _normalise(text)
    if m := _UNTIL.fullmatch(s):
        s, until = m[1], True
    try:
        start, end = _span(s, today, text)
    except (ValueError, OverflowError):  # e.g. a date past year 9999
        raise _unreadable(text) from None
    return _window(start, end, today, until=until)


def parse_when(text: str, today: date) -> DateWindow:
    """Read a when-expression ("mon-fri", "1-5 dec", "until friday") as a window from today on."""
    return _parse(text, today, until=False)


def parse_until(text: str, today: date) -> DateWindow:
    """For `/busy until`: from today to the end of the expression ("friday", "next week", "until 5 dec")."""
    return _parse(text, today, until=True)

"""Turn the date phrases busy owners type ("mon-fri", "1-5 dec", "until friday") into a date window.

Everything is computed from a `today` in the guild's time zone (and numeric dates in the guild's
locale), so parsing is pure and easy to test. This module joins phrases into ranges and applies the
window rules; `when_terms.py` knows what each single phrase means. No Discord types here: cogs call
these functions and show BuddyError messages as they are.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from dateutil import tz
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, model_validator

from buddybot.errors import BuddyError
from buddybot.text import quote_back
from buddybot.when_terms import (
    DEFAULT_LOCALE,
    EXAMPLES,
    Day,
    DayMonth,
    Month,
    Term,
    Weekday,
    month_end,
    real_date,
    resolve,
    term,
    unreadable,
)

__all__ = [
    "EXAMPLES",
    "MAX_WINDOW_DAYS",
    "DateWindow",
    "guild_locale",
    "parse_until",
    "parse_when",
    "today_in",
    "valid_timezone",
]

MAX_WINDOW_DAYS = 90
MAX_INPUT_CHARS = 100

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNTIL = re.compile(r"(?:until|till|til|up\s+to|by)\s+(.+)")
_LEAD_IN = re.compile(r"(?:for|from|during|over|starting|on)\s+")
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


def _normalise(text: str) -> str:
    """Lower case, plain hyphens, single spaces, no trailing punctuation."""
    s = text.lower().replace("–", "-").replace("—", "-").replace("−", "-").replace(",", " ")
    return re.sub(r"\s+", " ", s).strip().rstrip(".!?;:").strip()


def _end_from(t: Term, start: date, text: str) -> date:
    """Right-hand end of a range, read relative to its start ("28 dec - 3 jan" crosses the year)."""
    if isinstance(t, DayMonth) and t.year is None:
        same_year = date(start.year, t.month, t.day)
        if same_year >= start:
            return same_year
        # "28 dec - 3 jan" crosses into next year; "5 dec - 1 dec" is a typo, reported as reversed.
        return date(start.year + 1, t.month, t.day) if t.month != start.month else same_year
    if isinstance(t, Month) and t.year is None:
        return month_end(date(start.year + (t.month < start.month), t.month, 1))
    if isinstance(t, Day):  # "the 20th to the 25th": the 25th on or after the start
        return resolve(Day(t.day, alone=True), start, text)[1]
    return resolve(t, start, text)[1]


def _range(a: Term, b: Term, today: date, text: str) -> tuple[date, date]:
    """Resolve "A - B": the start from A, the end from B read after that start."""
    if isinstance(a, Weekday) and isinstance(b, Weekday):
        length = (b.index - a.index) % 7
        into = (today.weekday() - a.index) % 7
        if into <= length:  # already inside the range: it runs from today
            return today, today + timedelta(days=length - into)
        start = today + timedelta(days=7 - into)
        return start, start + timedelta(days=length)
    if isinstance(a, Day) and isinstance(b, DayMonth):
        a = DayMonth(a.day, b.month, b.year)
    elif isinstance(b, Day) and isinstance(a, DayMonth):
        b = DayMonth(b.day, a.month, a.year)
    if isinstance(a, Day) and isinstance(b, Day) and (a.alone or b.alone):
        start = resolve(Day(a.day, alone=True), today, text)[0]
        end = start.replace(day=1) + relativedelta(months=int(b.day < a.day))
        return start, real_date(end.year, end.month, b.day, text)
    if any(isinstance(t, Day) and not t.alone for t in (a, b)):
        raise unreadable(text)
    if isinstance(a, DayMonth) and a.year is None:
        # The earliest occurrence that hasn't ended, so a range under way ("28 nov - 3 dec" on 2 Dec,
        # "28 dec - 3 jan" on 2 Jan) is the current one rather than next year's.
        first = today.year - 1 if isinstance(b, DayMonth) and b.year is None else today.year
        for year in range(first, today.year + 2):
            start = date(year, a.month, a.day)
            span = start, _end_from(b, start, text)
            if span[1] >= today:
                break
        return span
    start = resolve(a, today, text)[0]
    return start, _end_from(b, start, text)


def _span(s: str, today: date, text: str, locale: str | None) -> tuple[date, date]:
    """A single phrase, or two phrases joined by to/until/-/..; tries each separator in turn."""
    if not s:
        raise unreadable(text)
    whole = term(s, today, text, locale)
    if whole is not None and not (isinstance(whole, Day) and not whole.alone):
        return resolve(whole, today, text)
    for sep in _SEPARATOR.finditer(s):
        a, b = term(s[: sep.start()], today, text, locale), term(s[sep.end() :], today, text, locale)
        if a is not None and b is not None:
            return _range(a, b, today, text)
    raise unreadable(text)


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


def _parse(text: str, today: date, locale: str | None, *, until: bool) -> DateWindow:
    if len(text.strip()) > MAX_INPUT_CHARS:
        raise BuddyError(f"That's too long for a date — keep it under {MAX_INPUT_CHARS} characters.")
    s = _normalise(text)
    if m := _UNTIL.fullmatch(s):
        s, until = m[1], True
    try:
        try:
            start, end = _span(s, today, text, locale)
        except BuddyError:
            lead = _LEAD_IN.match(s)  # "for next week", "from mon to fri", "over the weekend"
            if lead is None:
                raise
            start, end = _span(s[lead.end() :], today, text, locale)
    except (ValueError, OverflowError):  # e.g. a date past year 9999
        raise unreadable(text) from None
    return _window(start, end, today, until=until)


def parse_when(text: str, today: date, locale: str | None = None) -> DateWindow:
    """Read a when-expression ("mon-fri", "1-5 dec", "20/12") as a window from today on.

    `locale` is the guild's (e.g. "en-US"); it only decides whether "12/20" is read month first.
    """
    return _parse(text, today, locale, until=False)


def parse_until(text: str, today: date, locale: str | None = None) -> DateWindow:
    """For `/busy until`: from today to the end of the expression ("friday", "next week", "until 5 dec")."""
    return _parse(text, today, locale, until=True)


def guild_locale(configured: str | None, from_discord: str | None) -> str:
    """The locale numeric dates are read in: the server's /config setting, else Discord's, else en-GB."""
    return configured or from_discord or DEFAULT_LOCALE

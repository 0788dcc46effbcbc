"""Table-driven tests for when-expressions, pinned to fixed days so every expected window is exact."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from buddybot.errors import BuddyError
from buddybot.when import (
    EXAMPLES,
    MAX_WINDOW_DAYS,
    DateWindow,
    parse_until,
    parse_when,
    today_in,
    valid_timezone,
)

WED = date(2026, 11, 25)  # Wednesday
SAT = date(2026, 11, 28)
SUN = date(2026, 11, 29)
D = date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # today / tomorrow, with noise
        ("today", D(2026, 11, 25), D(2026, 11, 25)),
        ("  TODAY.  ", D(2026, 11, 25), D(2026, 11, 25)),
        ("tomorrow", D(2026, 11, 26), D(2026, 11, 26)),
        ("Tomorrow!", D(2026, 11, 26), D(2026, 11, 26)),
        # weeks are Mon–Sun
        ("this week", D(2026, 11, 25), D(2026, 11, 29)),
        ("this   week", D(2026, 11, 25), D(2026, 11, 29)),
        ("next week", D(2026, 11, 30), D(2026, 12, 6)),
        ("this weekend", D(2026, 11, 28), D(2026, 11, 29)),
        ("next weekend", D(2026, 12, 5), D(2026, 12, 6)),
        # weekdays: next occurrence, today included
        ("wednesday", D(2026, 11, 25), D(2026, 11, 25)),
        ("wed", D(2026, 11, 25), D(2026, 11, 25)),
        ("friday", D(2026, 11, 27), D(2026, 11, 27)),
        ("fri", D(2026, 11, 27), D(2026, 11, 27)),
        ("monday", D(2026, 11, 30), D(2026, 11, 30)),
        ("tue", D(2026, 12, 1), D(2026, 12, 1)),
        ("next monday", D(2026, 11, 30), D(2026, 11, 30)),
        ("next friday", D(2026, 12, 4), D(2026, 12, 4)),
        ("next wed", D(2026, 12, 2), D(2026, 12, 2)),
        # offsets
        ("in 3 days", D(2026, 11, 28), D(2026, 11, 28)),
        ("in 1 day", D(2026, 11, 26), D(2026, 11, 26)),
        ("in 2 weeks", D(2026, 12, 9), D(2026, 12, 9)),
        ("in a week", D(2026, 12, 2), D(2026, 12, 2)),
        ("within 3 days", D(2026, 11, 25), D(2026, 11, 28)),
        ("within 2 weeks", D(2026, 11, 25), D(2026, 12, 9)),
        # weekday ranges: today is inside mon-fri, so it starts today
        ("mon-fri", D(2026, 11, 25), D(2026, 11, 27)),
        ("mon - fri", D(2026, 11, 25), D(2026, 11, 27)),
        ("mon to fri", D(2026, 11, 25), D(2026, 11, 27)),
        ("monday to friday", D(2026, 11, 25), D(2026, 11, 27)),
        ("tue–thu", D(2026, 11, 25), D(2026, 11, 26)),
        ("thu-fri", D(2026, 11, 26), D(2026, 11, 27)),
        ("mon-tue", D(2026, 11, 30), D(2026, 12, 1)),
        ("fri-mon", D(2026, 11, 27), D(2026, 11, 30)),
        ("next mon - fri", D(2026, 11, 30), D(2026, 12, 4)),
        # day + month, this year (still ahead)
        ("1 dec", D(2026, 12, 1), D(2026, 12, 1)),
        ("dec 1", D(2026, 12, 1), D(2026, 12, 1)),
        ("1 december", D(2026, 12, 1), D(2026, 12, 1)),
        ("1st dec", D(2026, 12, 1), D(2026, 12, 1)),
        ("december 1st", D(2026, 12, 1), D(2026, 12, 1)),
        ("the 2nd of december", D(2026, 12, 2), D(2026, 12, 2)),
        ("25 nov", D(2026, 11, 25), D(2026, 11, 25)),
        ("1 dec 2027", D(2027, 12, 1), D(2027, 12, 1)),
        # day + month already past rolls to next year
        ("24 nov", D(2027, 11, 24), D(2027, 11, 24)),
        ("1 jan", D(2027, 1, 1), D(2027, 1, 1)),
        ("29 feb", D(2028, 2, 29), D(2028, 2, 29)),
        # day-month ranges
        ("1-5 dec", D(2026, 12, 1), D(2026, 12, 5)),
        ("1 - 5 december", D(2026, 12, 1), D(2026, 12, 5)),
        ("1st-5th dec", D(2026, 12, 1), D(2026, 12, 5)),
        ("dec 1-5", D(2026, 12, 1), D(2026, 12, 5)),
        ("1 dec - 5 dec", D(2026, 12, 1), D(2026, 12, 5)),
        ("1 dec to 5 dec", D(2026, 12, 1), D(2026, 12, 5)),
        ("28 nov - 3 dec", D(2026, 11, 28), D(2026, 12, 3)),
        ("28 dec - 3 jan", D(2026, 12, 28), D(2027, 1, 3)),
        ("20 nov - 30 nov", D(2026, 11, 25), D(2026, 11, 30)),  # under way: starts today
        # ISO
        ("2026-12-01", D(2026, 12, 1), D(2026, 12, 1)),
        ("2026-12-01 to 2026-12-05", D(2026, 12, 1), D(2026, 12, 5)),
        ("2026-12-01..2026-12-05", D(2026, 12, 1), D(2026, 12, 5)),
        ("2026-12-01 - 2026-12-05", D(2026, 12, 1), D(2026, 12, 5)),
        ("2026-12-01 – 2026-12-05", D(2026, 12, 1), D(2026, 12, 5)),
        ("2026-11-20 to 2026-11-27", D(2026, 11, 25), D(2026, 11, 27)),
        # until: today .. end of the expression
        ("until friday", D(2026, 11, 25), D(2026, 11, 27)),
        ("till friday", D(2026, 11, 25), D(2026, 11, 27)),
        ("Until Fri.", D(2026, 11, 25), D(2026, 11, 27)),
        ("until 5 dec", D(2026, 11, 25), D(2026, 12, 5)),
        ("until next week", D(2026, 11, 25), D(2026, 12, 6)),
        ("until 2026-12-01", D(2026, 11, 25), D(2026, 12, 1)),
        # general A to B
        ("tomorrow to friday", D(2026, 11, 26), D(2026, 11, 27)),
        ("today until 3 dec", D(2026, 11, 25), D(2026, 12, 3)),
        ("fri - 5 dec", D(2026, 11, 27), D(2026, 12, 5)),
        ("tomorrow - next friday", D(2026, 11, 26), D(2026, 12, 4)),
        ("1 dec - friday", D(2026, 12, 1), D(2026, 12, 4)),
        ("1 dec - next week", D(2026, 12, 1), D(2026, 12, 6)),
        ("24 nov - next week", D(2026, 11, 25), D(2026, 12, 6)),
        ("1 dec - 2026-12-03", D(2026, 12, 1), D(2026, 12, 3)),
    ],
)
def test_parse_when_on_a_wednesday(text: str, start: date, end: date) -> None:
    window = parse_when(text, WED)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    ("today", "text", "start", "end"),
    [
        (SAT, "this weekend", D(2026, 11, 28), D(2026, 11, 29)),
        (SAT, "next weekend", D(2026, 12, 5), D(2026, 12, 6)),
        (SAT, "this week", D(2026, 11, 28), D(2026, 11, 29)),
        (SAT, "next week", D(2026, 11, 30), D(2026, 12, 6)),
        (SAT, "mon-fri", D(2026, 11, 30), D(2026, 12, 4)),
        (SAT, "sat", D(2026, 11, 28), D(2026, 11, 28)),
        (SAT, "sun", D(2026, 11, 29), D(2026, 11, 29)),
        (SAT, "next monday", D(2026, 11, 30), D(2026, 11, 30)),
        (SAT, "next saturday", D(2026, 12, 5), D(2026, 12, 5)),
        (SAT, "fri-sun", D(2026, 11, 28), D(2026, 11, 29)),
        (SUN, "this weekend", D(2026, 11, 29), D(2026, 11, 29)),
        (SUN, "next weekend", D(2026, 12, 5), D(2026, 12, 6)),
        (SUN, "this week", D(2026, 11, 29), D(2026, 11, 29)),
        (SUN, "next week", D(2026, 11, 30), D(2026, 12, 6)),
        (SUN, "mon-fri", D(2026, 11, 30), D(2026, 12, 4)),
        (SUN, "next monday", D(2026, 11, 30), D(2026, 11, 30)),
        (SUN, "fri-mon", D(2026, 11, 29), D(2026, 11, 30)),
        (SUN, "until friday", D(2026, 11, 29), D(2026, 12, 4)),
        # a range under way this year is kept (and starts today) rather than rolled to next year
        (D(2026, 12, 2), "28 nov - 3 dec", D(2026, 12, 2), D(2026, 12, 3)),
        (D(2026, 12, 3), "1-5 dec", D(2026, 12, 3), D(2026, 12, 5)),
        (D(2026, 12, 6), "1-5 dec", D(2027, 12, 1), D(2027, 12, 5)),
        (D(2026, 12, 30), "28 dec - 3 jan", D(2026, 12, 30), D(2027, 1, 3)),
        (D(2027, 1, 2), "28 dec - 3 jan", D(2027, 1, 2), D(2027, 1, 3)),
        (D(2027, 1, 5), "28 dec - 3 jan", D(2027, 12, 28), D(2028, 1, 3)),
        (D(2026, 12, 31), "tomorrow", D(2027, 1, 1), D(2027, 1, 1)),
        (D(2026, 12, 31), "next week", D(2027, 1, 4), D(2027, 1, 10)),
    ],
)
def test_parse_when_other_days(today: date, text: str, start: date, end: date) -> None:
    window = parse_when(text, today)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("friday", D(2026, 11, 25), D(2026, 11, 27)),
        ("until friday", D(2026, 11, 25), D(2026, 11, 27)),
        ("till fri", D(2026, 11, 25), D(2026, 11, 27)),
        ("next week", D(2026, 11, 25), D(2026, 12, 6)),
        ("until next week", D(2026, 11, 25), D(2026, 12, 6)),
        ("5 dec", D(2026, 11, 25), D(2026, 12, 5)),
        ("today", D(2026, 11, 25), D(2026, 11, 25)),
        ("mon-fri", D(2026, 11, 25), D(2026, 11, 27)),
        ("1-5 dec", D(2026, 11, 25), D(2026, 12, 5)),
        ("next weekend", D(2026, 11, 25), D(2026, 12, 6)),
        ("2026-12-10", D(2026, 11, 25), D(2026, 12, 10)),
    ],
)
def test_parse_until_runs_from_today(text: str, start: date, end: date) -> None:
    window = parse_until(text, WED)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "I couldn't read “”"),
        ("   ", "I couldn't read"),
        ("soon", "I couldn't read “soon” as a date"),
        ("next year", "I couldn't read “next year”"),
        ("5", "I couldn't read “5”"),
        ("1-5", "I couldn't read “1-5”"),
        ("mon-fri-sat", "I couldn't read"),
        ("32 dec", "I couldn't read “32 dec”"),
        ("31 feb", "that day doesn't exist"),
        ("31 apr", "that day doesn't exist"),
        ("2026-13-01", "that day doesn't exist"),
        ("2026-02-30 to 2026-03-02", "that day doesn't exist"),
        ("2026-11-24", "already over"),
        ("2026-11-01 to 2026-11-24", "already over"),
        ("until 2026-11-01", "already over"),
        ("5 dec - 1 dec", "ends before it starts"),
        ("5-1 dec", "ends before it starts"),
        ("2026-12-05 to 2026-12-01", "ends before it starts"),
        ("next week to tomorrow", "ends before it starts"),
        ("2026-12-01 to 2027-03-01", f"at most {MAX_WINDOW_DAYS} days"),
        ("within 90 days", "91 days"),
        ("1 dec - 30 apr", "at most 90 days"),
        ("today " * 20, "too long"),
    ],
)
def test_parse_when_errors(text: str, fragment: str) -> None:
    with pytest.raises(BuddyError) as caught:
        parse_when(text, WED)
    assert fragment in caught.value.message


@pytest.mark.parametrize("text", ["", "soon", "31 feb", "2026-13-01"])
def test_unreadable_messages_list_examples(text: str) -> None:
    with pytest.raises(BuddyError) as caught:
        parse_when(text, WED)
    assert EXAMPLES in caught.value.message


def test_longest_allowed_window_is_ninety_days() -> None:
    assert parse_when("within 89 days", WED).days == MAX_WINDOW_DAYS
    assert parse_when("2026-11-25 to 2027-02-22", WED).days == 90
    with pytest.raises(BuddyError, match="at most 90 days"):
        parse_when("2026-11-25 to 2027-02-23", WED)


def test_explicit_iso_date_in_the_past_is_not_rolled() -> None:
    with pytest.raises(BuddyError, match="already over"):
        parse_when("2026-11-24", WED)
    assert parse_when("24 nov", WED).start == D(2027, 11, 24)  # a yearless date does roll


def test_parse_until_errors() -> None:
    with pytest.raises(BuddyError, match="already over"):
        parse_until("2026-11-24", WED)
    with pytest.raises(BuddyError, match="I couldn't read"):
        parse_until("until", WED)
    with pytest.raises(BuddyError, match="at most 90 days"):
        parse_until("until 2027-03-01", WED)


def test_over_long_input_is_refused_before_parsing() -> None:
    with pytest.raises(BuddyError, match="under 100 characters"):
        parse_when("x" * 101, WED)
    assert parse_when(" " * 200 + "today", WED).start == WED  # surrounding spaces don't count


def test_echo_is_sanitised() -> None:
    with pytest.raises(BuddyError) as caught:
        parse_when("@everyone\x00\x07 come\u200b <@123> now", WED)
    message = caught.value.message
    assert "“@\u200beveryone come <@\u200b123> now”" in message
    assert "@everyone" not in message and "<@123>" not in message
    assert "\x00" not in message and "\x07" not in message


def test_echo_is_truncated_to_forty_characters() -> None:
    text = "abcdefghij" * 6
    with pytest.raises(BuddyError) as caught:
        parse_when(text, WED)
    assert f"“{text[:40]}…”" in caught.value.message
    assert text[:41] not in caught.value.message


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Pacific/Auckland", D(2026, 11, 26)),
        ("America/New_York", D(2026, 11, 25)),
        ("Europe/London", D(2026, 11, 25)),
        ("UTC", D(2026, 11, 25)),
        ("Asia/Tokyo", D(2026, 11, 26)),
    ],
)
def test_today_in_zone(zone: str, expected: date) -> None:
    now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert today_in(zone, now) == expected


def test_today_in_treats_naive_now_as_utc() -> None:
    assert today_in("Pacific/Auckland", datetime(2026, 11, 25, 23, 30)) == D(2026, 11, 26)
    assert today_in("America/Los_Angeles", datetime(2026, 11, 26, 5, 0)) == D(2026, 11, 25)


def test_today_in_without_now_returns_a_date() -> None:
    assert isinstance(today_in("Europe/London"), date)


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "europe/london", "XYZ3", "../etc/passwd", "/etc/localtime"]
)
def test_today_in_unknown_zone(zone: str) -> None:
    with pytest.raises(BuddyError, match="isn't a time zone I know"):
        today_in(zone, datetime(2026, 11, 25, tzinfo=UTC))


@pytest.mark.parametrize(
    ("zone", "ok"),
    [
        ("Europe/London", True),
        ("America/New_York", True),
        ("America/Argentina/Buenos_Aires", True),
        ("Etc/GMT+3", True),
        ("UTC", True),
        ("Europe/Londn", False),
        ("europe/london", False),
        ("", False),
        (" ", False),
        ("XYZ3", False),
        ("GMT+3", False),
        ("../etc/passwd", False),
        ("/etc/localtime", False),
        (":Europe/London", False),
        ("A" * 100, False),
    ],
)
def test_valid_timezone(zone: str, ok: bool) -> None:
    assert valid_timezone(zone) is ok


def _w(start: date, end: date) -> DateWindow:
    return DateWindow(start=start, end=end)


DEC_1_5 = _w(D(2026, 12, 1), D(2026, 12, 5))


@pytest.mark.parametrize(
    ("other", "overlaps", "covers"),
    [
        (_w(D(2026, 12, 1), D(2026, 12, 5)), True, True),
        (_w(D(2026, 12, 2), D(2026, 12, 3)), True, True),
        (_w(D(2026, 12, 5), D(2026, 12, 5)), True, True),
        (_w(D(2026, 11, 28), D(2026, 12, 1)), True, False),
        (_w(D(2026, 12, 5), D(2026, 12, 9)), True, False),
        (_w(D(2026, 11, 30), D(2026, 12, 6)), True, False),
        (_w(D(2026, 11, 25), D(2026, 11, 30)), False, False),
        (_w(D(2026, 12, 6), D(2026, 12, 6)), False, False),
    ],
)
def test_overlaps_and_covers(other: DateWindow, overlaps: bool, covers: bool) -> None:
    assert DEC_1_5.overlaps(other) is overlaps
    assert other.overlaps(DEC_1_5) is overlaps
    assert DEC_1_5.covers(other) is covers


def test_wider_window_is_covered_the_other_way() -> None:
    assert _w(D(2026, 11, 30), D(2026, 12, 6)).covers(DEC_1_5)


@pytest.mark.parametrize(
    ("window", "text", "days"),
    [
        (_w(D(2026, 12, 1), D(2026, 12, 1)), "Tue 1 Dec 2026", 1),
        (_w(D(2026, 11, 30), D(2026, 12, 4)), "Mon 30 Nov – Fri 4 Dec 2026", 5),
        (_w(D(2026, 12, 28), D(2027, 1, 3)), "Mon 28 Dec 2026 – Sun 3 Jan 2027", 7),
    ],
)
def test_describe_and_days(window: DateWindow, text: str, days: int) -> None:
    assert window.describe() == text
    assert window.days == days


def test_window_is_frozen_and_ordered() -> None:
    with pytest.raises(ValueError):
        _w(D(2026, 12, 5), D(2026, 12, 1))
    with pytest.raises(ValueError):
        DEC_1_5.start = D(2026, 12, 2)  # type: ignore[misc]

"""Table-driven tests for the everyday forms of issue 17: months, spans, ordinals, numeric dates, asap."""

from __future__ import annotations

from datetime import date

import pytest

from buddybot.errors import BuddyError
from buddybot.when import EXAMPLES, guild_locale, parse_until, parse_when

WED = date(2026, 11, 25)  # Wednesday 25 November 2026
D = date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # today
        ("asap", WED, WED),
        ("ASAP!", WED, WED),
        ("now", WED, WED),
        ("right now", WED, WED),
        ("as soon as possible", WED, WED),
        # months
        ("this month", WED, D(2026, 11, 30)),
        ("rest of the month", WED, D(2026, 11, 30)),
        ("the rest of the month", WED, D(2026, 11, 30)),
        ("next month", D(2026, 12, 1), D(2026, 12, 31)),
        ("end of the month", D(2026, 11, 30), D(2026, 11, 30)),
        ("end of month", D(2026, 11, 30), D(2026, 11, 30)),
        ("end of next month", D(2026, 12, 31), D(2026, 12, 31)),
        ("january", D(2027, 1, 1), D(2027, 1, 31)),
        ("in january", D(2027, 1, 1), D(2027, 1, 31)),
        ("jan", D(2027, 1, 1), D(2027, 1, 31)),
        ("february 2027", D(2027, 2, 1), D(2027, 2, 28)),
        ("november", WED, D(2026, 11, 30)),  # the month under way, from today
        ("december", D(2026, 12, 1), D(2026, 12, 31)),
        ("dec - jan", D(2026, 12, 1), D(2027, 1, 31)),
        ("next month to 10 jan", D(2026, 12, 1), D(2027, 1, 10)),
        # spans from today
        ("for 2 weeks", WED, D(2026, 12, 8)),
        ("for two weeks", WED, D(2026, 12, 8)),
        ("for 3 days", WED, D(2026, 11, 27)),
        ("for a week", WED, D(2026, 12, 1)),
        ("for a month", WED, D(2026, 12, 24)),
        ("next 3 days", WED, D(2026, 11, 27)),
        ("the next 3 days", WED, D(2026, 11, 27)),
        ("over the next 2 weeks", WED, D(2026, 12, 8)),
        ("for the next 10 days", WED, D(2026, 12, 4)),
        ("coming 2 weeks", WED, D(2026, 12, 8)),
        ("rest of the week", WED, D(2026, 11, 29)),
        ("rest of this week", WED, D(2026, 11, 29)),
        ("a fortnight", WED, D(2026, 12, 8)),
        ("for a fortnight", WED, D(2026, 12, 8)),
        ("next fortnight", WED, D(2026, 12, 8)),
        ("fortnight", WED, D(2026, 12, 8)),
        ("in a fortnight", D(2026, 12, 9), D(2026, 12, 9)),
        ("within a fortnight", WED, D(2026, 12, 9)),
        ("for 2 fortnights", WED, D(2026, 12, 22)),
        # ordinal days: the next time that day comes round
        ("the 20th", D(2026, 12, 20), D(2026, 12, 20)),
        ("20th", D(2026, 12, 20), D(2026, 12, 20)),
        ("on the 20th", D(2026, 12, 20), D(2026, 12, 20)),
        ("the 28th", D(2026, 11, 28), D(2026, 11, 28)),
        ("25th", WED, WED),
        ("the 30", D(2026, 11, 30), D(2026, 11, 30)),
        ("the 31st", D(2026, 12, 31), D(2026, 12, 31)),  # November has no 31st
        ("the 1st", D(2026, 12, 1), D(2026, 12, 1)),
        ("the 20th to the 23rd", D(2026, 12, 20), D(2026, 12, 23)),
        ("28th-3rd", D(2026, 11, 28), D(2026, 12, 3)),
        ("27th - 29", D(2026, 11, 27), D(2026, 11, 29)),
        ("tomorrow to the 30th", D(2026, 11, 26), D(2026, 11, 30)),
        # numeric dates in en-GB (the default): day first; dots always day first
        ("20/12", D(2026, 12, 20), D(2026, 12, 20)),
        ("1/12", D(2026, 12, 1), D(2026, 12, 1)),
        ("20/12/2026", D(2026, 12, 20), D(2026, 12, 20)),
        ("20/12/26", D(2026, 12, 20), D(2026, 12, 20)),
        ("20.12.2026", D(2026, 12, 20), D(2026, 12, 20)),
        ("20.12.", D(2026, 12, 20), D(2026, 12, 20)),
        ("20.12", D(2026, 12, 20), D(2026, 12, 20)),
        ("1/1", D(2027, 1, 1), D(2027, 1, 1)),
        ("24/11", D(2027, 11, 24), D(2027, 11, 24)),  # yearless and past: next year's
        ("20/12 - 24/12", D(2026, 12, 20), D(2026, 12, 24)),
        ("28/12 to 3/1", D(2026, 12, 28), D(2027, 1, 3)),
        ("2026/12/20", D(2026, 12, 20), D(2026, 12, 20)),
        ("until 20/12", WED, D(2026, 12, 20)),
        # lead-in words people add
        ("for next week", D(2026, 11, 30), D(2026, 12, 6)),
        ("from monday to friday", WED, D(2026, 11, 27)),  # under way, as "mon-fri"
        ("from tomorrow", D(2026, 11, 26), D(2026, 11, 26)),
        ("over the weekend", D(2026, 11, 28), D(2026, 11, 29)),
        ("during next month", D(2026, 12, 1), D(2026, 12, 31)),
        ("starting 1 dec", D(2026, 12, 1), D(2026, 12, 1)),
        ("on the 20th", D(2026, 12, 20), D(2026, 12, 20)),
        # by = until
        ("by friday", WED, D(2026, 11, 27)),
        ("by the end of the month", WED, D(2026, 11, 30)),
        ("until end of the month", WED, D(2026, 11, 30)),
        ("by the 20th", WED, D(2026, 12, 20)),
    ],
)
def test_everyday_forms_on_a_wednesday(text: str, start: date, end: date) -> None:
    window = parse_when(text, WED)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    ("locale", "text", "day"),
    [
        ("en-GB", "20/12", D(2026, 12, 20)),
        ("en-US", "12/20", D(2026, 12, 20)),
        ("en-US", "12/20/2026", D(2026, 12, 20)),
        ("en-US", "12/1", D(2026, 12, 1)),
        ("en-GB", "12/1", D(2027, 1, 12)),
        ("en-US", "20.12.2026", D(2026, 12, 20)),  # dots are day.month in every locale
        ("de", "20.12.", D(2026, 12, 20)),
        ("fr", "20/12", D(2026, 12, 20)),
        ("ja", "12/20", D(2026, 12, 20)),
        ("ko", "12/20", D(2026, 12, 20)),
        ("zh-CN", "2026/12/20", D(2026, 12, 20)),
        ("es-419", "5/12", D(2026, 12, 5)),
        (None, "5/12", D(2026, 12, 5)),  # unknown: en-GB
    ],
)
def test_numeric_dates_follow_the_locale(locale: str | None, text: str, day: date) -> None:
    window = parse_when(text, WED, locale)
    assert (window.start, window.end) == (day, day)


@pytest.mark.parametrize(
    ("locale", "text", "fragment"),
    [
        ("en-GB", "12/20", "reads numeric dates as day/month, language en-GB"),
        ("en-US", "20/12", "reads numeric dates as month/day, language en-US"),
        ("en-GB", "31/11", "that day doesn't exist"),
        ("en-GB", "32/12", "that day doesn't exist"),
        ("en-GB", "the 32nd", "no month has that day"),
        ("en-GB", "the 0th", "no month has that day"),
        ("en-GB", "20/12/2025", "already over"),
        ("en-GB", "for 4 months", "at most 90 days"),
        ("en-GB", "for 0 days", "ends before it starts"),
        ("en-GB", "in the future", "I couldn't read"),
        ("en-GB", "end of the year", "I couldn't read"),
        ("en-GB", "20/12/20266", "I couldn't read"),
        ("en-GB", "1/2/3/4", "I couldn't read"),
        ("en-GB", "20", "I couldn't read"),
        ("en-GB", "for ever", "I couldn't read “for ever”"),
        ("en-GB", "from 31/11", "that day doesn't exist"),
    ],
)
def test_unreadable_everyday_forms_explain(locale: str, text: str, fragment: str) -> None:
    with pytest.raises(BuddyError) as caught:
        parse_when(text, WED, locale)
    assert fragment in caught.value.message


@pytest.mark.parametrize("text", ["soonish", "12/20", "end of the year"])
def test_unreadable_forms_still_list_examples(text: str) -> None:
    with pytest.raises(BuddyError) as caught:
        parse_when(text, WED, "en-GB")
    assert EXAMPLES in caught.value.message
    for form in ("asap", "next month", "for 2 weeks", "the 20th", "20/12", "20.12.2026", "january"):
        assert form in EXAMPLES


@pytest.mark.parametrize(
    ("today", "text", "start", "end"),
    [
        (D(2026, 12, 31), "this month", D(2026, 12, 31), D(2026, 12, 31)),
        (D(2026, 12, 31), "next month", D(2027, 1, 1), D(2027, 1, 31)),
        (D(2027, 1, 30), "next month", D(2027, 2, 1), D(2027, 2, 28)),
        (D(2028, 1, 30), "end of next month", D(2028, 2, 29), D(2028, 2, 29)),
        (D(2027, 1, 31), "for a month", D(2027, 1, 31), D(2027, 2, 27)),
        (D(2026, 12, 20), "the 20th", D(2026, 12, 20), D(2026, 12, 20)),
        (D(2026, 12, 21), "the 20th", D(2027, 1, 20), D(2027, 1, 20)),
        (D(2027, 1, 31), "the 30th", D(2027, 3, 30), D(2027, 3, 30)),  # February has none
        (D(2026, 12, 31), "january", D(2027, 1, 1), D(2027, 1, 31)),
        (D(2027, 1, 15), "january", D(2027, 1, 15), D(2027, 1, 31)),
        (D(2026, 11, 29), "rest of the week", D(2026, 11, 29), D(2026, 11, 29)),
        (D(2026, 12, 30), "28/12 - 3/1", D(2026, 12, 30), D(2027, 1, 3)),
    ],
)
def test_everyday_forms_other_days(today: date, text: str, start: date, end: date) -> None:
    window = parse_when(text, today)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("next month", D(2026, 12, 31)),
        ("the 20th", D(2026, 12, 20)),
        ("20/12", D(2026, 12, 20)),
        ("a fortnight", D(2026, 12, 8)),
        ("asap", WED),
    ],
)
def test_busy_until_everyday_forms(text: str, end: date) -> None:
    window = parse_until(text, WED)
    assert (window.start, window.end) == (WED, end)


@pytest.mark.parametrize(
    ("configured", "discord", "expected"),
    [("en-US", "en-GB", "en-US"), (None, "en-US", "en-US"), (None, None, "en-GB"), ("de", None, "de")],
)
def test_guild_locale_prefers_the_setting_then_discord(
    configured: str | None, discord: str | None, expected: str
) -> None:
    assert guild_locale(configured, discord) == expected


@pytest.mark.parametrize("example", [e.strip() for e in EXAMPLES.split(",")])
def test_every_example_the_error_suggests_is_readable(example: str) -> None:
    window = parse_when(example, WED)
    assert WED <= window.start <= window.end

"""The progress bar: what one line says, when it draws, and that it stays out of CI logs."""

from __future__ import annotations

import io

import pytest

from buddybot.progress import Progress, render


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "unit", "expected"),
    [
        (0, 100, 0.0, "rows", "seed [........................]   0% · 0/100 rows"),
        (25, 100, 5.0, "rows", "seed [######..................]  25% · 25/100 rows · 5 rows/s · ETA 0:15"),
        (
            50_000,
            200_000,
            10.0,
            "",
            "seed [######..................]  25% · 50,000/200,000 · 5,000/s · ETA 0:30",
        ),
        (100, 100, 125.0, "rows", "seed [########################] 100% · 100/100 rows · 1 rows/s · in 2:05"),
        (1, 7201, 1.0, "", "seed [........................]   0% · 1/7,201 · 1/s · ETA 2:00:00"),
        (
            3 << 20,
            12 << 20,
            2.0,
            "B",
            "seed [######..................]  25% · 3.0 MiB/12.0 MiB · 1.5 MiB/s · ETA 0:06",
        ),
        (5, 0, 1.0, "", "seed [........................]   0% · 5/0 · 5/s · in 0:01"),
    ],
)
def test_render(done: float, total: float, elapsed: float, unit: str, expected: str) -> None:
    assert render("seed", done, total, elapsed, unit=unit) == expected


def test_render_with_a_note() -> None:
    assert render("seed", 1, 2, 1.0, note="referrals").endswith(" · referrals")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress("copy", 10, stream=out) as bar:
        for _ in range(10):
            bar.advance()
    assert out.getvalue() == ""


def test_on_a_terminal_it_redraws_in_place_at_most_every_tenth_of_a_second() -> None:
    out, clock = Terminal(), Clock()
    with Progress("copy", 10, stream=out, clock=clock) as bar:
        bar.advance()  # first draw
        bar.advance()  # too soon: skipped
        clock.now = 0.5
        bar.advance()
    frames = out.getvalue().split("\r\x1b[2K")[1:]
    assert [f.split(" · ")[1].strip() for f in frames] == ["1/10", "3/10"]
    assert out.getvalue().endswith("\n") and "\n" not in out.getvalue()[:-1]


def test_forced_without_a_terminal_prints_plain_lines_every_ten_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress("copy", 100, stream=out, force=True, clock=clock) as bar:
        for second in range(1, 31):
            clock.now = float(second)
            bar.advance(3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # at 1 s, 11 s, 21 s, then the final state
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("copy [") and "90/100" in lines[-1]


def test_close_does_not_repeat_an_unchanged_line() -> None:
    out = io.StringIO()
    with Progress("copy", 1, stream=out, force=True) as bar:
        bar.update(1)
    assert len(out.getvalue().splitlines()) == 1


def test_bench_copy_keeps_every_byte(tmp_path) -> None:
    from bench.seed import copy_with_progress

    source = tmp_path / "a.bin"
    source.write_bytes(bytes(range(256)) * 5000)
    target = tmp_path / "b.bin"
    copy_with_progress(source, target, chunk=4096)
    assert target.read_bytes() == source.read_bytes()


def test_bench_seeding_reports_rows_rate_and_eta(tmp_path, capsys) -> None:
    import asyncio

    from bench.seed import Scale, _create_schema, expected_rows, seed

    path, scale = tmp_path / "seed.sqlite3", Scale(members=1000, skills=100, requests=400, referrals=2000)
    asyncio.run(_create_schema(path))
    counts = seed(path, scale, force_progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("seeding [########################] 100%") and "rows/s" in lines[-1]
    written = int(lines[-1].split(" · ")[1].split("/")[0].replace(",", ""))
    assert written >= sum(counts.values())  # members, offers, needs… (plus skills and guild_config)
    assert abs(written - expected_rows(scale)) <= 0.05 * written  # the estimate the ETA rests on

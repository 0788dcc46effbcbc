"""A progress bar with rate and ETA for long command-line jobs (`db backup`, bench seeding).

It draws on stderr only when stderr is a terminal, so CI logs stay clean; `--progress` forces it, and
then (not on a terminal) it prints a plain line at most every `log_every` seconds instead of redrawing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _amount(n: float, unit: str) -> str:
    if unit == "B":
        for size, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if n >= size:
                return f"{n / size:,.1f} {name}"
        return f"{n:,.0f} B"
    return f"{n:,.0f}{' ' + unit if unit else ''}"


def render(label: str, done: float, total: float, elapsed: float, *, unit: str = "", note: str = "") -> str:
    """One line: label, bar, percent, done/total, rate and ETA (rate and ETA once something is done)."""
    share = min(done / total, 1.0) if total > 0 else 0.0
    filled = int(share * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    amounts = (
        f"{_amount(done, unit)}/{_amount(total, unit)}" if unit == "B" else f"{done:,.0f}/{total:,.0f} {unit}"
    )
    parts = [f"{label} [{bar}] {share * 100:3.0f}%", amounts.rstrip()]
    if done > 0 and elapsed > 0:
        rate = done / elapsed
        parts.append(f"{_amount(rate, unit)}/s")
        parts.append(
            f"ETA {_duration(max(total - done, 0) / rate)}" if done < total else f"in {_duration(elapsed)}"
        )
    if note:
        parts.append(note)
    return " · ".join(parts)


class Progress:
    """`with Progress("backup", total, unit="B") as bar: bar.update(done)`; silent unless it should draw."""

    def __init__(
        self,
        label: str,
        total: float,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        force: bool = False,
        redraw_every: float = 0.1,
        log_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.tty or force
        self.every = redraw_every if self.tty else log_every
        self.clock = clock
        self.started = clock()
        self.done = 0.0
        self.note = ""
        self._drawn_at: float | None = None
        self._drawn: tuple[float, float, str] | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: float, *, total: float | None = None, note: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        self.tick()

    def advance(self, n: float = 1, *, note: str | None = None) -> None:
        self.update(self.done + n, note=note)

    def tick(self) -> None:
        """Redraw if it is time (also callable from a polling hook while work is under way)."""
        now = self.clock()
        if self.enabled and (self._drawn_at is None or now - self._drawn_at >= self.every):
            self._draw(now)

    def _draw(self, now: float) -> None:
        line = render(self.label, self.done, self.total, now - self.started, unit=self.unit, note=self.note)
        self.stream.write(f"\r\x1b[2K{line}" if self.tty else line + "\n")
        self.stream.flush()
        self._drawn_at = now
        self._drawn = (self.done, self.total, self.note)

    def close(self) -> None:
        """The final state, then a newline on a terminal."""
        if self.enabled:
            if self._drawn != (self.done, self.total, self.note):
                self._draw(self.clock())
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()
            self.enabled = False

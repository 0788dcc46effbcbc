"""The /stats chart: requests posted vs filled per week, as PNG bytes.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state). The bot never imports
matplotlib (~40 MB resident): `render_png` asks a chart worker, a child process started on the first
/stats (`python -m buddybot.chart`), over its stdin/stdout; the worker exits when the bot does (its
stdin closes). A render costs about 50 ms, so identical charts (same weeks, same numbers) come from a
small cache in the bot.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date

from buddybot.stats import WeekPoint

POSTED = "#5865F2"
FILLED = "#57F287"
BARS_UP_TO = 26
CACHED_CHARTS = 64


def requests_per_week_png(points: Sequence[WeekPoint], title: str = "Requests per week") -> bytes:
    """Render in this process (the chart worker and the benchmarks use this)."""
    return _render(tuple((p.week, p.posted, p.filled) for p in points), title)


_cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
_worker: subprocess.Popen[bytes] | None = None
_lock = threading.Lock()


def _key(points: Sequence[WeekPoint], title: str) -> tuple[object, ...]:
    return (tuple((p.week, p.posted, p.filled) for p in points), title)


def cached_png(points: Sequence[WeekPoint], title: str = "Requests per week") -> bytes | None:
    """The chart if it was drawn already (no waiting: call it on the event loop), else None."""
    with _lock:
        png = _cache.get(_key(points, title))
    return png


def render_png(points: Sequence[WeekPoint], title: str = "Requests per week") -> bytes:
    """The chart from the chart worker (blocking: call it with asyncio.to_thread); cached by content."""
    key = _key(points, title)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        request = json.dumps(
            {"points": [[w.isoformat(), p, f] for w, p, f in key[0]], "title": title}
        ).encode()
        try:
            png = _ask(request)
        except (OSError, ValueError, EOFError):
            _stop()  # a worker that died or answered garbage: start a fresh one, once
            png = _ask(request)
        _cache[key] = png
        while len(_cache) > CACHED_CHARTS:
            _cache.popitem(last=False)
        return png


def _ask(request: bytes) -> bytes:
    global _worker
    if _worker is None or _worker.poll() is not None:
        _worker = subprocess.Popen(
            [sys.executable, "-m", "buddybot.chart"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    assert _worker.stdin is not None and _worker.stdout is not None
    _worker.stdin.write(len(request).to_bytes(4, "big") + request)
    _worker.stdin.flush()
    size = int.from_bytes(_read(_worker.stdout, 4), "big")
    return _read(_worker.stdout, size)


def _read(stream: io.BufferedReader, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the chart worker stopped")
    return data


def _stop() -> None:
    global _worker
    if _worker is not None:
        _worker.kill()
        _worker.wait()
        _worker = None


def serve(stdin: io.BufferedReader, stdout: io.BufferedWriter) -> None:
    """The chart worker: length-prefixed JSON requests in, length-prefixed PNGs out, until stdin closes."""
    while header := stdin.read(4):
        request = json.loads(stdin.read(int.from_bytes(header, "big")))
        points = tuple((date.fromisoformat(w), p, f) for w, p, f in request["points"])
        png = _render(points, request["title"])
        stdout.write(len(png).to_bytes(4, "big") + png)
        stdout.flush()


@functools.lru_cache(maxsize=CACHED_CHARTS)
def _render(points: tuple[tuple[date, int, int], ...], title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weeks = [w for w, _, _ in points]
    posted = [p for _, p, _ in points]
    filled = [f for _, _, f in points]
    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.2)  # fixed: tight_layout costs ~25 ms
    axes = figure.add_subplot()
    x = list(range(len(points)))
    if len(points) <= BARS_UP_TO:
        width = 0.4
        axes.bar([i - width / 2 for i in x], posted, width, label="posted", color=POSTED)
        axes.bar([i + width / 2 for i in x], filled, width, label="filled", color=FILLED)
    else:  # many weeks: lines read better than bars a pixel wide
        axes.plot(x, posted, label="posted", color=POSTED, linewidth=1.5)
        axes.fill_between(x, filled, label="filled", color=FILLED, alpha=0.7)
    step = max(1, len(points) // 12)
    label = "{0.day} {0:%b %Y}" if len(points) > 52 else "{0.day} {0:%b}"
    axes.set_xticks(x[::step], [label.format(w) for w in weeks][::step], rotation=45, ha="right", fontsize=8)
    axes.set_ylabel("requests")
    axes.set_title(title)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(bottom=0, top=max([1, *posted]) * 1.15)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)

"""The /stats chart: requests posted vs filled per week, as PNG bytes.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state), so it is safe to call
from a worker thread: the cog renders it with asyncio.to_thread, off the event loop. A render costs
about 50 ms, so identical charts (same weeks, same numbers) come from a small in-memory cache.
matplotlib (~40 MB resident) is imported on the first render, so only a bot whose moderators ask
for /stats pays for it.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import date

from buddybot.stats import WeekPoint

POSTED = "#5865F2"
FILLED = "#57F287"
BARS_UP_TO = 26
CACHED_CHARTS = 64


def requests_per_week_png(points: Sequence[WeekPoint], title: str = "Requests per week") -> bytes:
    return _render(tuple((p.week, p.posted, p.filled) for p in points), title)


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

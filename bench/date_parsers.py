"""Compare BuddyBot's when-parser with dateparser and parsedatetime (issue 17's "consider a parser").

Run each in a fresh process so import time and memory are its own:
    python bench/date_parsers.py            # ours, plus each library that is importable here
The libraries are not dependencies; install them in a scratch venv to compare
(`python -m venv /tmp/dp && /tmp/dp/bin/pip install dateparser parsedatetime python-dateutil pydantic`,
then run this file with /tmp/dp/bin/python from the repository root).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import timeit
from datetime import date, datetime
from pathlib import Path

PHRASES = [
    "next month", "end of the month", "for 2 weeks", "the 20th", "20/12", "20.12.2026", "asap",
    "rest of the week", "a fortnight", "mon-fri", "1-5 dec",
]  # fmt: skip
TIMED = ["next friday", "20/12", "tomorrow"]
REFERENCE = datetime(2026, 11, 25, 10)  # a Wednesday


def _parser(which: str):
    if which == "dateparser":
        import dateparser

        settings = {
            "RELATIVE_BASE": REFERENCE,
            "TIMEZONE": "Europe/London",
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
        }
        return lambda s: dateparser.parse(s, settings=settings, languages=["en"])
    if which == "parsedatetime":
        import parsedatetime

        cal = parsedatetime.Calendar()
        return lambda s: (
            cal.parseDT(s, sourceTime=REFERENCE)[0] if cal.parseDT(s, sourceTime=REFERENCE)[1] else None
        )
    from buddybot.when import parse_when

    return lambda s: parse_when(s, date(2026, 11, 25))


def measure(which: str) -> dict[str, object]:
    if which == "buddybot":  # the bot imports these anyway; only the parser's own cost is charged
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import dateutil.relativedelta
        import dateutil.tz  # noqa: F401
        from pydantic import BaseModel  # noqa: F401

        import buddybot.errors  # noqa: F401
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    parse = _parser(which)
    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    parse("next friday")
    first = time.perf_counter() - t1
    answers = {}
    for phrase in PHRASES:
        try:
            answers[phrase] = str(parse(phrase))
        except Exception as e:  # the comparison records refusals too
            answers[phrase] = f"error: {type(e).__name__}"
    n = 300
    per_call = timeit.timeit(lambda: [parse(p) for p in TIMED], number=n) / (n * len(TIMED))
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return {"parser": which, "import_ms": imported * 1e3, "first_call_ms": first * 1e3,
            "per_call_us": per_call * 1e6, "rss_mib": rss, "answers": answers}  # fmt: skip


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2])))
        return
    for which in ("buddybot", "dateparser", "parsedatetime"):
        done = subprocess.run([sys.executable, __file__, "--child", which], capture_output=True, text=True)
        if done.returncode:
            print(f"{which}: not importable here")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{which}: import {r['import_ms']:.0f} ms, first call {r['first_call_ms']:.1f} ms, "
            f"{r['per_call_us']:.0f} µs per call, +{r['rss_mib']:.1f} MiB peak RSS"
        )
        for phrase, answer in r["answers"].items():
            print(f"    {phrase!r:22} -> {answer}")


if __name__ == "__main__":
    main()

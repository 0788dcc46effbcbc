"""BuddyBot benchmark: one process, one run, every measurement interleaved with its floor.

    .venv/bin/python bench/run.py            # 100,000 members, 1,000,000 referrals (seeded once, cached)
    .venv/bin/python bench/run.py --quick    # a tenth of the community, fewer rounds: under 60 s
    .venv/bin/python bench/run.py --db postgresql://user@127.0.0.1/bench   # the same on PostgreSQL

With --db the seeded community is first copied into that (emptied) PostgreSQL database with
`buddybot db copy`, and the end-to-end interaction and burst tables are measured on it; the storage
table (plain sqlite3, SQLite VM steps) and the RSS children are SQLite-only and left out. Results go to
bench/results-pg[-quick].json and bench/RESULTS-pg[-quick].md.

A full run writes bench/results.json and bench/RESULTS.md; a quick run writes bench/results-quick.json and
bench/RESULTS-quick.md, so it never replaces the recorded full run. Prints the table. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import logging
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bench import ops as benchops  # noqa: E402
from bench import queries, report  # noqa: E402
from bench.driver import BenchWorld  # noqa: E402
from bench.flows import add_flow_ops, bursts  # noqa: E402
from bench.matched import MatchedFloor, plan_of  # noqa: E402
from bench.measure import run_rounds  # noqa: E402
from bench.monday import monday_morning  # noqa: E402
from bench.seed import CACHE, FULL, QUICK, Scale, ensure_seeded, working_copy  # noqa: E402

HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ErrorCounter(logging.Handler):
    """Counts what the bot logs at ERROR (unexpected errors, failed replies) instead of printing tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.msg}"] += 1


ERRORS = ErrorCounter()


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "discord.py": discord.__version__,
    }


async def interactive(db: Path | str, scale: Scale, args: argparse.Namespace) -> dict[str, object]:
    world = await BenchWorld(db).start()
    try:
        slices = benchops.Slices(scale.members)
        chosen = [benchops.OfferAdd(slices, scale), benchops.Find(scale)]
        chosen += add_flow_ops(world, slices, scale)
        if world.bot.tree.get_command("stats") is not None:
            chosen.append(benchops.Stats())
        total = args.rounds * args.per_round
        matched: dict[str, benchops.Op] = {}
        for op in chosen:
            log(f"setting up {op.name} ({total} samples)")
            await op.setup(world, total + 1)
            warm = await world.discord.interact(op.payload(world, total))  # one more: its REST plan
            op.check(world, warm)
            click = warm.component_message_id is not None
            matched[op.name] = MatchedFloor(op.name, plan_of(warm), click=click, world=world)
            log(f"  matched floor: {'click' if click else '/noop_rest'} {plan_of(warm)}")
        world.discord.forget(keep=set().union(*(op.keep for op in [*chosen, *matched.values()])))
        gc.collect()
        gc.freeze()  # what setup allocated is not garbage: keep the collector off it while timing
        log(f"interleaving {len(chosen)} operations with the floor: {args.rounds} rounds x {args.per_round}")
        floor, series = await run_rounds(
            world, chosen, rounds=args.rounds, per_round=args.per_round, log=log, matched=matched
        )
        out: dict[str, object] = {"floor": floor.summary()}
        out.update({name: s.summary() for name, s in series.items()})
        out["bursts"] = await bursts(
            world, slices, scale, burst=args.burst, mixed=args.mixed, log=log, matched=matched.get("/need")
        )
        return out
    finally:
        gc.unfreeze()
        await world.close()


def peak_rss(db: Path, quick: bool) -> dict[str, object]:
    """Peak RSS of two child processes: a bare commands.Bot vs BuddyBot with the seeded database open.

    The ratio uses each child's VmHWM (/proc/self/status: the peak RSS of the process since it exec'd).
    ru_maxrss is recorded too but cannot be compared: on Linux a child's ru_maxrss also holds the RSS of
    the parent it was forked from at the moment it called exec (the kernel carries the old memory map's
    high-water mark over), and this parent holds the whole benchmark by then; both children report it.
    """
    out: dict[str, object] = {}
    for kind in ("bare", "buddybot"):
        cmd = [sys.executable, str(HERE / "rss_child.py"), kind, str(db)] + (["--quick"] if quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"rss child {kind} failed:\n{done.stderr[-3000:]}")
        out[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    bare, full = out["bare"]["vm_hwm_kib"], out["buddybot"]["vm_hwm_kib"]  # type: ignore[index]
    out["ratio"] = round(full / bare, 2)
    return out


def server_version(url: str) -> str:
    from buddybot.storage import pg

    conn = pg.connect(url)
    try:
        return conn.execute("SHOW server_version").fetchone()[0]
    finally:
        conn.close()


def output_paths(quick: bool, directory: Path = HERE, engine: str = "sqlite") -> tuple[Path, Path]:
    """Where a run's JSON and Markdown go: a quick run never overwrites the recorded full run."""
    suffix = ("-pg" if engine == "postgresql" else "") + ("-quick" if quick else "")
    return directory / f"results{suffix}.json", directory / f"RESULTS{suffix}.md"


def save(results: dict[str, object], directory: Path = HERE) -> str:
    """Write the results and their table where `output_paths` says; returns the table."""
    json_path, md_path = output_paths(
        bool(results.get("quick")), directory, str(results.get("engine", "sqlite"))
    )
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    md_path.write_text(table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the community and fewer samples")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (at least 11)")
    parser.add_argument("--per-round", type=int, help="samples per operation per round")
    parser.add_argument("--seed-only", action="store_true", help="build the cached database and stop")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument("--db", help="a postgresql:// URL to measure on instead of SQLite (it is emptied)")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    logging.getLogger().addHandler(ERRORS)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)  # "rate limited, retrying" is the harness's 429s
    args.rounds = max(11, args.rounds or 11)
    args.per_round = args.per_round or (8 if args.quick else 40)
    args.burst = 500
    args.mixed = 2_000 if args.quick else 10_000
    started = time.perf_counter()
    seeded = ensure_seeded(scale, log=log)
    if args.seed_only:
        print(seeded)
        return
    db = working_copy(scale, CACHE / f"work-{scale.members}.sqlite3")
    log(f"working copy {db} ({db.stat().st_size / 1e6:.0f} MB)")

    results: dict[str, object] = {
        "machine": machine(),
        "scale": scale.__dict__,
        "quick": args.quick,
        "rounds": args.rounds,
        "per_round": args.per_round,
    }
    target: Path | str = db
    if args.db:
        from buddybot.storage import copy

        log(f"copying the community into {args.db} (buddybot db copy --force)")
        copy.copy(str(db), args.db, force=True)
        target = args.db
        results["engine"] = "postgresql"
        results["machine"]["postgresql"] = server_version(args.db)  # type: ignore[index]
    else:
        log("matching query (plain sqlite3) vs the reference on offers_by_rank")
        q_rounds, q_per = (11, 20) if args.quick else (15, 100)
        results["matching"] = queries.matching(
            db, scale, rounds=q_rounds, per_round=q_per, worst_runs=10 if args.quick else 40
        )
        log("/find's directory query (plain sqlite3) vs the sorted query it replaced")
        results["directory"] = queries.directory(db, scale, rounds=q_rounds, per_round=q_per)
        log("/stats figures (plain sqlite3)")
        results["stats_figures"] = queries.stats_figures(db, rounds=11, per_round=3 if args.quick else 10)
        results["stats_chart"] = queries.chart_render(db, 5 if args.quick else 30)
    log("Monday morning: one referrals channel, strict rate limits, 50 ms round trips")
    results["monday_morning"] = asyncio.run(monday_morning(target, scale, quick=args.quick, log=log))
    metrics = asyncio.run(interactive(target, scale, args))
    results["bursts"] = metrics.pop("bursts")
    results["metrics"] = metrics
    results["round_trips"] = {
        name: m["round_trips"] for name, m in metrics.items() if isinstance(m, dict) and "round_trips" in m
    }
    if not args.no_rss and not args.db:
        log("peak RSS (child processes)")
        results["rss"] = peak_rss(db, args.quick)
    results["logged"] = dict(ERRORS.counts.most_common(20))
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["goals"] = report.goals(results)
    print(save(results))


if __name__ == "__main__":
    main()

"""Interleaved measurement: every batch of an operation runs right after a batch of its floor.

Per round and operation: `per_round` floor samples, then `per_round` samples of the operation; the
round's ratio is median(operation) / median(floor). Reported: the median of the per-round ratios
(robust to drift: both halves of a ratio saw the same machine state) and the p99 of all samples.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from bench.driver import BenchWorld, Sample, median, percentile
from buddybot.testing.harness import Result


class BenchError(AssertionError):
    """An operation did not take its success path: the numbers would measure the wrong thing."""


@dataclass
class Series:
    name: str
    samples: list[float] = field(default_factory=list)  # µs, the measured quantity
    floor: list[float] = field(default_factory=list)  # µs, the floor batches interleaved with it
    ack: list[float] = field(default_factory=list)  # µs, to the interaction callback
    ratios: list[float] = field(default_factory=list)  # per round
    round_trips: int = 0  # the most sequential REST round trips to the final answer seen in a sample
    matched: list[float] = field(default_factory=list)  # µs, its matched floor (same REST calls, no work)
    matched_ratios: list[float] = field(default_factory=list)  # per round

    def add_round(self, samples: Sequence[float], floor: Sequence[float], ack: Sequence[float] = ()) -> None:
        self.samples += samples
        self.floor += floor
        self.ack += ack
        self.ratios.append(median(samples) / median(floor))

    def summary(self) -> dict[str, Any]:
        out = {
            "median_us": round(median(self.samples), 1),
            "p99_us": round(percentile(self.samples, 99), 1),
            "ratio": round(median(self.ratios), 2),
            "p99_ratio": round(percentile(self.samples, 99) / percentile(self.floor, 99), 2),
            "floor_median_us": round(median(self.floor), 1),
            "floor_p99_us": round(percentile(self.floor, 99), 1),
            "rounds": len(self.ratios),
            "samples": len(self.samples),
        }
        if self.ack:
            out["ack_median_us"] = round(median(self.ack), 1)
            out["ack_p99_us"] = round(percentile(self.ack, 99), 1)
        out["round_trips"] = self.round_trips
        if self.matched:
            out["matched_floor_median_us"] = round(median(self.matched), 1)
            out["matched_floor_p99_us"] = round(percentile(self.matched, 99), 1)
            out["matched_ratio"] = round(median(self.matched_ratios), 2)
            out["matched_p99_ratio"] = round(percentile(self.samples, 99) / percentile(self.matched, 99), 2)
        return out


class Op:
    """One kind of interaction to time. Subclasses build payloads and check the success path."""

    name = "op"
    keep: set[int]

    def __init__(self) -> None:
        self.keep = set()

    async def setup(self, world: BenchWorld, total: int) -> None:
        """Prepare what `total` samples will need (posts to click, users, ...), untimed."""

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, world: BenchWorld, result: Result) -> None:
        """Raise BenchError unless the interaction did what the benchmark means to time."""


class Noop(Op):
    name = "floor"

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        return world.slash("noop", world.member(i % 1000))

    def check(self, world: BenchWorld, result: Result) -> None:
        if result.content != "ok":
            raise BenchError(f"noop answered {result.response}")


async def run_rounds(
    world: BenchWorld,
    ops: Sequence[Op],
    *,
    rounds: int,
    per_round: int,
    log: Callable[[str], None] = print,
    matched: dict[str, Op] | None = None,
) -> tuple[Series, dict[str, Series]]:
    """Interleave every op with the floor for `rounds` rounds; returns (floor, {op: series})."""
    floor_op = Noop()
    floor_all = Series("floor")
    series = {op.name: Series(op.name) for op in ops}
    counters = dict.fromkeys(series, 0)
    floor_i = 0
    for r in range(rounds):
        order = list(ops[r % len(ops) :]) + list(ops[: r % len(ops)]) if ops else []
        for op in order:
            floor_done, floor_ack = [], []
            for _ in range(per_round):
                sample, result = await world.timed(floor_op.payload(world, floor_i))
                floor_op.check(world, result)
                floor_i += 1
                floor_done.append(sample.done_ns / 1000)
                floor_ack.append(sample.ack_ns / 1000)
            done, ack = [], []
            for _ in range(per_round):
                sample, result = await world.timed(op.payload(world, counters[op.name]))
                op.check(world, result)
                series[op.name].round_trips = max(series[op.name].round_trips, result.round_trips)
                counters[op.name] += 1
                done.append(sample.done_ns / 1000)
                ack.append(sample.ack_ns / 1000)
            series[op.name].add_round(done, floor_done, ack)
            floor_all.add_round(floor_done, floor_done, floor_ack)
            twin = (matched or {}).get(op.name)
            if twin is not None:
                twin_done = []
                for i in range(per_round):
                    sample, result = await world.timed(twin.payload(world, r * per_round + i))
                    twin.check(world, result)
                    twin_done.append(sample.done_ns / 1000)
                series[op.name].matched += twin_done
                series[op.name].matched_ratios.append(median(done) / median(twin_done))
        keep = set().union(*(op.keep for op in [*ops, *(matched or {}).values()])) if ops else set()
        world.discord.forget(keep=keep)
        gc.collect()
        log(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {s.ratios[-1]:.2f}x" for n, s in series.items()))
    return floor_all, series


def sync_rounds(
    name: str, fn: Callable[[int], object], floor: Callable[[int], object], *, rounds: int, per_round: int
) -> Series:
    """The same interleaving for plain functions (storage queries): fn vs its floor, µs."""
    out = Series(name)
    i = j = 0
    for _ in range(rounds):
        floor_us, us = [], []
        for _ in range(per_round):
            t = perf_counter_ns()
            floor(j)
            floor_us.append((perf_counter_ns() - t) / 1000)
            j += 1
        for _ in range(per_round):
            t = perf_counter_ns()
            fn(i)
            us.append((perf_counter_ns() - t) / 1000)
            i += 1
        out.add_round(us, floor_us)
    return out


def ns_to_us(sample: Sample) -> tuple[float, float]:
    return sample.ack_ns / 1000, sample.done_ns / 1000

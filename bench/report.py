"""Goals from issue #6 checked against a results dict, and the Markdown table for the README."""

from __future__ import annotations

from typing import Any


def _goal(name: str, value: float | None, limit: float, unit: str, note: str = "") -> dict[str, Any]:
    met = value is not None and value <= limit
    return {"goal": name, "value": value, "limit": limit, "unit": unit, "met": met, "note": note}


def goals(r: dict[str, Any]) -> list[dict[str, Any]]:
    m = r.get("metrics", {})
    out = []
    need = m.get("/need")
    if need:
        out.append(_goal("/need end to end p50 ≤ 3× floor", need["ratio"], 3, "×"))
        out.append(_goal("/need end to end p99 ≤ 6× floor", need["p99_ratio"], 6, "×"))
    match = r.get("matching")
    if match:
        out.append(_goal("matching p99 ≤ 2× reference query p99", match["p99_ratio"], 2, "×"))
        out.append(
            _goal(
                "matching plan: no temp B-tree, no scan of offers",
                len(match["plan_problems"]),
                0,
                "problems",
                "; ".join(match["plan_problems"]),
            )
        )
        out.append(
            _goal(
                f"matching worst case ({match['worst_skill']}, {match['worst_skill_offerers']:,} "
                "offerers, nobody available) ≤ 15 ms",
                round(match["worst_max_us"] / 1000, 2),
                15,
                "ms",
            )
        )
        ws = match.get("worst_searched")
        if ws:
            out.append(
                _goal(
                    f"matching slowest case found ({ws['skill']}, from {ws['window'][0]}) ≤ 15 ms",
                    round(ws["us"] / 1000, 2),
                    15,
                    "ms",
                )
            )
    stats = m.get("/stats")
    if stats:
        out.append(
            _goal(
                "/stats p99 ≤ 10 ms (to the answer; the chart follows it)",
                round(stats.get("ack_p99_us", stats["p99_us"]) / 1000, 2),
                10,
                "ms",
                f"with the chart follow-up: p99 {round(stats['p99_us'] / 1000, 2)} ms",
            )
        )
    for name, v in m.items():
        if "matched_ratio" in v and name in (
            "/need",
            "/offer add",
            "/find",
            "I can take it click",
            "Accept click",
            "/stats",
        ):
            out.append(_goal(f"{name} p50 ≤ 1.5× its matched floor", v["matched_ratio"], 1.5, "×"))
            out.append(_goal(f"{name} p99 ≤ 3× its matched floor", v["matched_p99_ratio"], 3, "×"))
    find = m.get("/find")
    if find:
        out.append(_goal("/find p99 ≤ 5 ms (end to end)", round(find["p99_us"] / 1000, 2), 5, "ms"))
    for name, trips in r.get("round_trips", {}).items():
        if name != "floor":
            out.append(_goal(f"{name}: Discord round trips to the final answer ≤ 2", trips, 2, "round trips"))
    monday = r.get("monday_morning")
    if monday:
        out.append(
            _goal(
                "Monday morning: every interaction acknowledged within 3 s", monday["max_ack_ms"], 3000, "ms"
            )
        )
        out.append(
            _goal("Monday morning: responses with status 429", monday["responses_429"], 0, "responses")
        )
        settle = monday["settle_s"]
        out.append(_goal("Monday morning: every post final within 10 s of the burst", settle, 10, "s"))
    figures = r.get("stats_figures")
    if figures:
        worst = max(v["p99_us"] for v in figures.values())
        out.append(
            _goal(
                "/stats figures alone (every period, no chart) p99 ≤ 10 ms", round(worst / 1000, 2), 10, "ms"
            )
        )
    burst = r.get("bursts", {}).get("need_500")
    if burst:
        floors = "matched floors" if burst.get("floor") == "matched" else "floors"
        out.append(_goal(f"500 simultaneous /need ≤ 5× 500 simultaneous {floors}", burst["ratio"], 5, "×"))
        out.append(
            _goal(
                "500 simultaneous /need: every need stored and posted once",
                0 if burst["ok"] else 1,
                0,
                "errors",
            )
        )
    mixed = r.get("bursts", {}).get("mixed")
    if mixed:
        out.append(
            _goal(
                f"{mixed['interactions']:,} mixed interactions: nothing lost, nothing doubled",
                0 if mixed["ok"] else 1,
                0,
                "errors",
            )
        )
    rss = r.get("rss")
    if rss:
        out.append(_goal("peak RSS ≤ 1.3× a bare commands.Bot", rss["ratio"], 1.3, "×"))
    return out


def _us(v: float) -> str:
    return f"{v / 1000:,.2f} ms" if v >= 10_000 else f"{v:,.0f} µs"


def markdown(r: dict[str, Any]) -> str:
    s = r["scale"]
    mc = r["machine"]
    on_pg = r.get("engine") == "postgresql"
    engine = f"PostgreSQL {mc['postgresql']} (loopback)" if on_pg else f"SQLite {mc['sqlite']}"
    lines = [
        "## Benchmark results" + (" on PostgreSQL" if on_pg else ""),
        "",
        f"`python bench/run.py{' --quick' if r['quick'] else ''}{' --db postgresql://…' if on_pg else ''}` "
        f"on {mc['cpu']} ({mc['cpus']} CPUs), "
        f"Python {mc['python']}, {engine}, discord.py {mc['discord.py']}. "
        f"Community: {s['members']:,} members, {s['members'] * s['offers_per_member']:,} offers over "
        f"{s['skills']:,} skills, {s['requests']:,} recent requests, {s['referrals']:,} referrals. "
        f"{r['rounds']} rounds × {r['per_round']} samples per operation, each batch right after a batch of "
        f"the floor; ratio = median of per-round ratios, p99 ratio = p99 / floor p99. Run took {r['seconds']} s.",
        "",
        "| interaction (end to end) | median | p99 | ratio to floor | p99 ratio | matched ratio | matched p99 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, v in r["metrics"].items():
        label = "floor: no-op slash command" if name == "floor" else name
        ratio = "1.00" if name == "floor" else f"{v['ratio']:.2f}×"
        p99r = "1.00" if name == "floor" else f"{v['p99_ratio']:.2f}×"
        mr = f"{v['matched_ratio']:.2f}×" if "matched_ratio" in v else "–"
        mp = f"{v['matched_p99_ratio']:.2f}×" if "matched_p99_ratio" in v else "–"
        lines.append(
            f"| {label} | {_us(v['median_us'])} | {_us(v['p99_us'])} | {ratio} | {p99r} | {mr} | {mp} |"
        )
    floor = r["metrics"].get("floor")
    if floor and "ack_median_us" in floor:
        lines += [
            "",
            f"Floor from compressed gateway bytes to the captured callback: {_us(floor['ack_median_us'])} "
            'median; "end to end" also waits for every task the interaction started (posts, threads, edits).',
        ]
    mt = r.get("matching")
    if mt:
        lines += [
            "",
            "| storage (plain sqlite3) | median | p99 | vs reference |",
            "|---|---:|---:|---:|",
            f"| matching query, Zipf-drawn skills, half with an area | {_us(mt['median_us'])} | {_us(mt['p99_us'])} "
            f"| {mt['ratio']:.2f}× median, {mt['p99_ratio']:.2f}× p99 |",
            f"| reference: offers_by_rank walk, LIMIT 5 | {_us(mt['reference_median_us'])} | "
            f"{_us(mt['reference_p99_us'])} | 1.00 |",
            f"| matching, worst skill “{mt['worst_skill']}” ({mt['worst_skill_offerers']:,} offerers, nobody "
            f"available) | {_us(mt['worst_median_us'])} | {_us(mt['worst_p99_us'])} (max {_us(mt['worst_max_us'])}) | "
            f"{mt['vm_steps_worst']:,} VM steps vs {mt['vm_steps_reference']:,} |",
        ]
        hop = mt.get("through_database")
        if hop:
            lines.append(
                f"| matching through the bot's `Database.read` (one unit, on the event loop) | {_us(hop['median_us'])} | "
                f"{_us(hop['p99_us'])} | {hop['ratio']:.2f}× the same SQL through plain sqlite3 |"
            )
        ws = mt.get("worst_searched")
        if ws:
            lines.append(
                f"| matching, slowest of the 20 most offered skills × 2 windows × 3 areas: “{ws['skill']}”, "
                f"{ws['window'][0]}–{ws['window'][1]}, area {ws['area']} | {_us(ws['us'])} | | |"
            )
    dr = r.get("directory")
    if dr:
        lines.append(
            f"| /find directory page, most offered skill “{dr['skill']}” ({dr['listed']:,} listed), today and "
            f"next week | {_us(dr['median_us'])} | {_us(dr['p99_us'])} | the sorted query it replaced: "
            f"{_us(dr['sorted_median_us'])} median, {_us(dr['sorted_p99_us'])} p99; {dr['vm_steps']:,} VM steps "
            f"vs {dr['vm_steps_sorted']:,} |"
        )
    figures = r.get("stats_figures")
    if figures:
        for period, v in figures.items():
            lines.append(
                f"| /stats figures, period {period} | {_us(v['median_us'])} | {_us(v['p99_us'])} | |"
            )
    chart = r.get("stats_chart")
    if chart:
        lines.append(
            f"| /stats chart PNG (matplotlib) | {_us(chart['median_us'])} | {_us(chart['p99_us'])} | |"
        )
    b = r.get("bursts", {})
    if b:
        lines += ["", "| burst | result |", "|---|---|"]
        if "need_500" in b:
            x = b["need_500"]
            lines.append(
                f"| {x['n']} simultaneous /need ×{x['repetitions']} | {x['need_ms']:,.0f} ms vs {x['floor_ms']:,.0f} ms "
                f"for {x['n']} {'matched floors' if x.get('floor') == 'matched' else 'no-ops'} ({x['ratio']:.2f}×)"
                + (f", {x['noop_ms']:,.0f} ms for {x['n']} plain no-ops ({x['noop_ratio']:.2f}×)" if "noop_ms" in x else "")
                + f", {x['interactions_per_s']:,}/s; of {x['expected']:,} asked: "
                f"{x['acknowledged']:,} acknowledged within Discord's 3 s, {x['needs_added']:,} stored, "
                f"{x['posts']:,} posted"
                + (
                    f", {x['retries']:,} units run again after a serialization failure"
                    if "retries" in x
                    else ""
                )
                + f": {'ok' if x['ok'] else 'WRONG'} |"
            )
        if "mixed" in b:
            x = b["mixed"]
            mix = ", ".join(f"{k} {v:,}" for k, v in x["counts"].items())
            checked = ", ".join(f"{t} +{c['got']:,}/{c['expected']:,}" for t, c in x["rows"].items())
            lines.append(
                f"| {x['interactions']:,} mixed, 100 at a time ({mix}) | {x['interactions_per_s']:,}/s; "
                f"rows {checked}: {'ok' if x['ok'] else 'WRONG'} |"
            )
    monday = r.get("monday_morning")
    if monday:
        lines += [
            "",
            f"Monday morning (strict rate limits, {monday['round_trip_ms']:.0f} ms per REST round trip, one "
            f"referrals channel, {monday['span_s']} s): delivered {monday['delivered']}; acknowledged within "
            f"{monday['max_ack_ms']:,.1f} ms at most (p99 {monday['p99_ack_ms']:,.1f} ms; "
            f"{monday['unanswered']} unanswered); {monday['responses_429']} responses with status 429; every "
            f"post final {monday['settle_s']} s after the burst. REST calls per interaction: "
            f"{monday['rest_calls_per_interaction']}; by bucket: {monday['rest_calls_by_bucket']}.",
        ]
    trips = r.get("round_trips")
    if trips:
        shown = ", ".join(f"{k} {v}" for k, v in trips.items() if k != "floor")
        lines += ["", f"Discord round trips to the final answer (most seen in any sample): {shown}."]
    rss = r.get("rss")
    if rss:
        bare, full = rss["bare"]["vm_hwm_kib"] / 1024, rss["buddybot"]["vm_hwm_kib"] / 1024
        lines += [
            "",
            f"Peak RSS (VmHWM of each child process): bare commands.Bot {bare:,.1f} MiB, BuddyBot with the "
            f"{s['members']:,}-member database serving every command {full:,.1f} MiB ({rss['ratio']:.2f}×).",
        ]
    lines += ["", "| goal | measured | met |", "|---|---:|:---:|"]
    for g in r.get("goals", []):
        value = "–" if g["value"] is None else f"{g['value']}{'' if g['unit'] in ('×',) else ' '}{g['unit']}"
        lines.append(f"| {g['goal']} | {value} | {'yes' if g['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"

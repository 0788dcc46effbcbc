"""One migration file, two engines: dialect blocks and the SQLite -> PostgreSQL translation of common DDL.

A migration is written in SQLite's dialect. Lines between `-- dialect: sqlite` and `-- dialect: end` run
only on SQLite; lines between `-- dialect: postgresql` and `-- dialect: end` only on PostgreSQL (plain
PL/pgSQL, not translated); `-- dialect: postgresql` may directly follow a sqlite block, so the two
versions of one thing sit side by side. Everything else is common and runs on both; on PostgreSQL it is translated:

  * `INTEGER` columns -> BIGINT (Discord ids are 64-bit); `id INTEGER PRIMARY KEY [AUTOINCREMENT]` -> an
    identity column; `WITHOUT ROWID` dropped; `REAL` -> DOUBLE PRECISION;
  * `INSERT OR IGNORE` -> `INSERT … ON CONFLICT DO NOTHING`;
  * `a IS b` / `a IS NOT b` (not NULL) -> IS [NOT] DISTINCT FROM; two-argument min()/max() -> LEAST/GREATEST;
    julianday(x) -> days since the epoch (only differences of it are ever used); printf('%0Nd', x) -> lpad;
  * `CREATE TRIGGER name {AFTER|BEFORE|INSTEAD OF} event ON table [WHEN cond] BEGIN … END` -> a PL/pgSQL
    function `name_fn()` plus a FOR EACH ROW trigger that calls it (the WHEN becomes an IF inside).

Whatever the translation cannot express goes in a pair of dialect blocks, side by side in the same file,
and tests/test_schema_parity.py checks both engines end with the same tables, columns, keys and indexes.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def table_names(conn: Any) -> set[str]:
    """The application's tables (not the engine's own, nor the schema-version bookkeeping)."""
    if getattr(conn, "dialect", SQLITE) == POSTGRESQL:
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' AND table_name <> 'buddybot_schema'"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {r[0] for r in conn.execute(sql)}


_BLOCK = re.compile(r"^\s*--\s*dialect:\s*(sqlite|postgresql|end)\s*$", re.IGNORECASE)


def segments(sql: str) -> list[tuple[str | None, str]]:
    """Split a migration into (dialect or None for common, text) segments, in file order."""
    out: list[tuple[str | None, str]] = []
    current: str | None = None
    buffer: list[str] = []
    for line in sql.splitlines(keepends=True):
        match = _BLOCK.match(line)
        if not match:
            buffer.append(line)
            continue
        kind = match.group(1).lower()
        if (kind == "end" and current is None) or kind == current:
            raise RuntimeError(f"unbalanced dialect block at: {line.strip()}")
        out.append((current, "".join(buffer)))
        buffer, current = [], (None if kind == "end" else kind)
    if current is not None:
        raise RuntimeError("dialect block not closed")
    out.append((None, "".join(buffer)))
    return [(d, text) for d, text in out if text.strip()]


def statements(sql: str, dialect: str) -> list[str]:
    """The statements of a migration for `dialect`, in order (BEGIN/COMMIT lines dropped)."""
    found: list[str] = []
    for block, text in segments(sql):
        if block is None:
            common = _sqlite_statements(text)
            found += [out for s in common for out in to_postgresql(s)] if dialect == POSTGRESQL else common
        elif block == dialect:
            found += _sqlite_statements(text) if dialect == SQLITE else _dollar_statements(text)
    return found


def _strip_comments(statement: str) -> str:
    return "\n".join(ln for ln in statement.strip().splitlines() if not ln.lstrip().startswith("--")).strip()


def _keep(statement: str) -> bool:
    return bool(statement) and statement.upper().rstrip(";").strip() not in ("BEGIN", "COMMIT")


def _sqlite_statements(sql: str) -> list[str]:
    """sqlite3.complete_statement knows about quotes and trigger bodies."""
    out, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            stripped = _strip_comments(buffer)
            if _keep(stripped):
                out.append(stripped)
            buffer = ""
    if _strip_comments(buffer):
        raise RuntimeError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return out


def _dollar_statements(sql: str) -> list[str]:
    """Split PostgreSQL text on top-level semicolons, skipping quotes and $tag$ bodies."""
    out, start, i, n = [], 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'":
            i = sql.index("'", i + 1) + 1
            while i < n and sql[i] == "'":
                i = sql.index("'", i + 1) + 1
            continue
        if sql.startswith("--", i):
            i = sql.find("\n", i) % (n + 1) if sql.find("\n", i) >= 0 else n
            continue
        if ch == "$":
            tag = re.match(r"\$\w*\$", sql[i:])
            if tag:
                i = sql.index(tag.group(0), i + len(tag.group(0))) + len(tag.group(0))
                continue
        if ch == ";":
            stripped = _strip_comments(sql[start : i + 1])
            if _keep(stripped):
                out.append(stripped)
            start = i + 1
        i += 1
    if _strip_comments(sql[start:]):
        raise RuntimeError(f"incomplete SQL statement in migration: {sql[start:].strip()[:80]}")
    return out


_TRIGGER = re.compile(
    r"^CREATE\s+TRIGGER\s+(?P<name>\w+)\s+(?P<timing>AFTER|BEFORE|INSTEAD\s+OF)\s+"
    r"(?P<event>INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(?P<table>\w+)\s*"
    r"(?:WHEN\s+(?P<when>.*?))?\s*\bBEGIN\b(?P<body>.*)\bEND\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def to_postgresql(statement: str) -> list[str]:
    """Translate one common (SQLite-dialect) statement to PostgreSQL (a trigger becomes two)."""
    trigger = _TRIGGER.match(statement)
    if trigger:
        return _trigger(trigger)
    if re.match(r"^CREATE\s+VIEW\b", statement, re.IGNORECASE):
        raise RuntimeError("views differ between the engines: put them in dialect blocks")
    sql = statement
    if re.match(r"^(CREATE\s+TABLE|ALTER\s+TABLE)\b", sql, re.IGNORECASE):
        sql = re.sub(
            r"\bid\s+INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?",
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            sql,
            flags=re.IGNORECASE,
        )
        sql = re.sub(r"\)\s*WITHOUT\s+ROWID", ")", sql, flags=re.IGNORECASE)
        sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
        sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return [expressions(sql)]


def expressions(sql: str) -> str:
    """Expression-level rewrites shared by plain statements and trigger bodies."""
    sql = re.sub(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b)", "IS DISTINCT FROM ", sql, flags=re.IGNORECASE)
    sql = re.sub(
        r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)",
        "IS NOT DISTINCT FROM ",
        sql,
        flags=re.IGNORECASE,
    )
    ignore = re.match(r"^(\s*)INSERT\s+OR\s+IGNORE\s+INTO\b", sql, re.IGNORECASE)
    if ignore:
        sql = (
            ignore.group(1)
            + "INSERT INTO"
            + sql[ignore.end() :].rstrip().rstrip(";")
            + " ON CONFLICT DO NOTHING"
        )
    sql = _qualify_upsert(sql)
    sql = _rewrite_calls(sql, "min", lambda args: f"LEAST({', '.join(args)})" if len(args) > 1 else None)
    sql = _rewrite_calls(sql, "max", lambda args: f"GREATEST({', '.join(args)})" if len(args) > 1 else None)
    sql = _rewrite_calls(
        sql, "julianday", lambda args: f"(extract(epoch FROM CAST({args[0]} AS timestamptz)) / 86400.0)"
    )
    sql = _rewrite_calls(sql, "printf", _printf)
    return sql


def _qualify_upsert(sql: str) -> str:
    """`DO UPDATE SET n = n + 1`: PostgreSQL wants the target's column qualified (`n = t.n + 1`)."""
    target = re.match(r"^\s*INSERT\s+INTO\s+(\w+)", sql, re.IGNORECASE)
    clause = re.search(r"\bDO\s+UPDATE\s+SET\b", sql, re.IGNORECASE)
    if not target or not clause:
        return sql
    head, tail = sql[: clause.end()], sql[clause.end() :]
    tail = re.sub(r"\b(\w+)(\s*=\s*)\1\b", rf"\1\2{target.group(1)}.\1", tail)
    return head + tail


def _printf(args: list[str]) -> str:
    width = re.fullmatch(r"'%0(\d+)d'", args[0].strip())
    if not width or len(args) != 2:
        raise RuntimeError(f"printf({', '.join(args)}) has no PostgreSQL translation")
    return f"lpad(CAST({args[1]} AS TEXT), {width.group(1)}, '0')"


def _rewrite_calls(sql: str, name: str, build) -> str:
    """Replace calls `name(a, b, …)` (outside quotes) with build([a, b, …]); None keeps the call."""
    pattern = re.compile(rf"\b{name}\s*\(", re.IGNORECASE)
    pos = 0
    while True:
        match = pattern.search(sql, pos)
        if not match:
            return sql
        if _in_quotes(sql, match.start()):
            pos = match.end()
            continue
        args, end = _arguments(sql, match.end())
        replacement = build([_rewrite_calls(a, name, build) for a in args])
        if replacement is None:
            pos = match.end()
            continue
        sql = sql[: match.start()] + replacement + sql[end:]
        pos = match.start() + len(replacement)


def _in_quotes(sql: str, index: int) -> bool:
    return sql.count("'", 0, index) % 2 == 1


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """Top-level comma-separated arguments from just after '(' to the matching ')'; returns (args, end)."""
    depth, quoted, args, begin = 0, False, [], start
    for i in range(start, len(sql)):
        ch = sql[i]
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                args.append(sql[begin:i].strip())
                return args, i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(sql[begin:i].strip())
            begin = i + 1
    raise RuntimeError(f"unbalanced parentheses in: {sql[start - 10 : start + 60]}")


def _trigger(match: re.Match[str]) -> list[str]:
    name, table = match.group("name"), match.group("table")
    timing = " ".join(match.group("timing").upper().split())
    event = " ".join(match.group("event").split())
    body = "\n".join(
        expressions(s.rstrip().rstrip(";")) + ";" for s in _sqlite_statements(match.group("body"))
    )
    when = match.group("when")
    if when:
        body = f"IF {expressions(when.strip())} THEN\n{body}\nEND IF;"
    result = "NEW" if timing == "INSTEAD OF" else "NULL"
    return [
        f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n{body}\n"
        f"RETURN {result};\nEND\n$fn$",
        f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()",
    ]

"""One migration source, two engines: both end with the same tables, columns, keys, indexes and triggers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from buddybot.storage import dialect
from buddybot.storage.copy import _migrate_to_current
from buddybot.testing.engines import connected
from tests.conftest import require_pg

# SQLite keeps agreement members in pick order by its implicit rowid; PostgreSQL has it as a column.
EXPLICIT_ROWID = {("agreement_members", "rowid")}


def sqlite_schema(conn: sqlite3.Connection) -> dict[str, object]:
    tables = sorted(dialect.table_names(conn))
    columns, keys, fks, indexes = set(), {}, set(), {}
    for t in tables:
        info = conn.execute(f"PRAGMA table_info({t})").fetchall()
        columns |= {(t, c[1], bool(c[3]) or c[5] > 0) for c in info}
        keys[t] = tuple(c[1] for c in sorted(info, key=lambda c: c[5]) if c[5] > 0)
        fks |= {(t, f[2], f[3], f[4]) for f in conn.execute(f"PRAGMA foreign_key_list({t})").fetchall()}
        for ix in conn.execute(f"PRAGMA index_list({t})").fetchall():
            if ix[3] == "pk":
                continue
            cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({ix[1]})").fetchall())
            indexes[(t, cols, bool(ix[2]), bool(ix[4]))] = ix[1]
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return {"tables": tables, "columns": columns, "keys": keys, "fks": fks,
            "indexes": set(indexes), "triggers": triggers}  # fmt: skip


def pg_schema(conn) -> dict[str, object]:
    tables = sorted(dialect.table_names(conn))
    columns = {
        (r[0], r[1], r[2] == "NO")
        for r in conn.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'buddybot_schema'"
        )
        if r[0] in tables and (r[0], r[1]) not in EXPLICIT_ROWID
    }
    keys = {t: () for t in tables}
    for t, cols in conn.execute(
        "SELECT c.conrelid::regclass::text, array_agg(a.attname ORDER BY k.ord) FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.contype = 'p' AND c.connamespace = current_schema()::regnamespace GROUP BY c.conrelid"
    ):
        if t in keys:
            keys[t] = tuple(cols)
    fks = set()
    for t, ref, cols, refcols in conn.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, "
        "(SELECT array_agg(attname ORDER BY array_position(c.conkey, attnum)) FROM pg_attribute "
        " WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey)), "
        "(SELECT array_agg(attname ORDER BY array_position(c.confkey, attnum)) FROM pg_attribute "
        " WHERE attrelid = c.confrelid AND attnum = ANY(c.confkey)) "
        "FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
    ):
        fks |= {(t, ref, a, b) for a, b in zip(cols, refcols, strict=True)}
    indexes = set()
    for t, cols, unique, partial in conn.execute(
        "SELECT i.indrelid::regclass::text, "
        "(SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum), "
        "i.indisunique, i.indpred IS NOT NULL FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE NOT i.indisprimary AND c.relnamespace = current_schema()::regnamespace"
    ):
        if t in tables:
            indexes.add((t, tuple(cols), unique, partial))
    triggers = {r[0] for r in conn.execute(
        "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    )}  # fmt: skip
    return {"tables": tables, "columns": columns, "keys": keys, "fks": fks,
            "indexes": indexes, "triggers": triggers}  # fmt: skip


def test_both_engines_end_with_the_same_schema(tmp_path: Path, pg_templates) -> None:
    url = require_pg(pg_templates).empty()
    path = tmp_path / "parity.sqlite3"
    try:
        _migrate_to_current(str(path))
        _migrate_to_current(url)
        with connected(path) as lite, connected(url) as pg:
            a, b = sqlite_schema(lite), pg_schema(pg)
    finally:
        pg_templates.drop(url)
    # SQLite's views are INSTEAD OF targets; PostgreSQL has them too, so the trigger names match as well.
    for part in ("tables", "columns", "keys", "fks", "indexes", "triggers"):
        assert a[part] == b[part], part
    assert len(a["tables"]) > 20 and len(a["triggers"]) > 20 and len(a["indexes"]) > 30


def test_translation_of_the_common_ddl() -> None:
    from buddybot.storage.dialect import to_postgresql

    (table,) = to_postgresql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, guild_id INTEGER NOT NULL) WITHOUT ROWID"
    )
    assert (
        table
        == "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, guild_id BIGINT NOT NULL)"
    )
    (upsert,) = to_postgresql(
        "INSERT INTO s (k, n) VALUES (1, min(2, 3)) ON CONFLICT (k) DO UPDATE SET n = n + 1"
    )
    assert upsert == "INSERT INTO s (k, n) VALUES (1, LEAST(2, 3)) ON CONFLICT (k) DO UPDATE SET n = s.n + 1"
    function, trigger = to_postgresql(
        "CREATE TRIGGER x AFTER UPDATE OF area ON members WHEN NEW.area IS NOT OLD.area "
        "BEGIN INSERT OR IGNORE INTO t VALUES (max(NEW.a, 0)); END"
    )
    assert "IF NEW.area IS DISTINCT FROM OLD.area THEN" in function
    assert "INSERT INTO t VALUES (GREATEST(NEW.a, 0)) ON CONFLICT DO NOTHING;" in function
    assert trigger == "CREATE TRIGGER x AFTER UPDATE OF area ON members FOR EACH ROW EXECUTE FUNCTION x_fn()"
    with pytest.raises(RuntimeError, match="dialect blocks"):
        to_postgresql("CREATE VIEW v AS SELECT 1")

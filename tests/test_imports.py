"""No import cycles between our modules, counting lazy and TYPE_CHECKING imports (issue 17, part 6)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("buddybot", "cogs")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    found: set[frozenset[str]] = set()
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    found.add(frozenset(path))
                elif nxt not in path and nxt > start:  # each cycle once, from its smallest module
                    stack.append((nxt, [*path, nxt]))
    return found


# Known and left to its owner: Database.__new__ picks PostgresDatabase (a subclass) with a lazy import.
KNOWN = {frozenset({"buddybot.storage.db", "buddybot.storage.pg_database"})}


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) - KNOWN == set()


def test_the_demo_and_its_script_no_longer_import_each_other() -> None:
    graph = _graph()
    assert "buddybot.demo" not in graph["buddybot.demo_script"]
    assert "buddybot.demo_script" in graph["buddybot.demo"]


def test_the_checker_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset({"a", "b", "c"})}

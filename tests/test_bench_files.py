"""Issue 11 (3): a quick benchmark run must never replace the recorded full run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench import run

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_a_quick_run_writes_its_own_files_and_leaves_the_full_run(tmp_path: Path) -> None:
    shutil.copy(BENCH / "results.json", tmp_path / "results.json")
    shutil.copy(BENCH / "RESULTS.md", tmp_path / "RESULTS.md")
    full_json, full_md = (tmp_path / "results.json").read_text(), (tmp_path / "RESULTS.md").read_text()
    quick = json.loads(full_json) | {"quick": True, "seconds": 42.0}

    table = run.save(quick, tmp_path)

    assert (tmp_path / "results.json").read_text() == full_json
    assert (tmp_path / "RESULTS.md").read_text() == full_md
    assert json.loads((tmp_path / "results-quick.json").read_text())["quick"] is True
    assert (tmp_path / "RESULTS-quick.md").read_text() == table


def test_a_full_run_writes_the_recorded_files(tmp_path: Path) -> None:
    full = json.loads((BENCH / "results.json").read_text()) | {"quick": False}
    run.save(full, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["quick"] is False
    assert not (tmp_path / "results-quick.json").exists()

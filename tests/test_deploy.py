"""Deployment files, checked statically (no Docker daemon here; README says how to run `docker build`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buddybot.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "buddybot" / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.M)


def test_slim_python_base_and_a_non_root_user() -> None:
    assert all(base.startswith("python:3.11-slim") for base in instructions("FROM"))
    (user,) = instructions("USER")
    assert user.strip() not in ("root", "0") and "useradd --system" in DOCKERFILE


def test_everything_copied_exists_in_the_build_context() -> None:
    for args in instructions("COPY"):
        if "--from=" in args:
            continue
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_database_lives_on_the_volume() -> None:
    assert 'VOLUME ["/data"]' in DOCKERFILE
    assert "BUDDYBOT_DB=/data/buddybot.sqlite3" in DOCKERFILE


def test_healthcheck_runs_a_real_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    (check,) = instructions("HEALTHCHECK")
    assert check.endswith('CMD ["buddybot", "health"]')
    with pytest.raises(SystemExit) as exit_info:
        main(["health", "--help"])
    assert exit_info.value.code == 0 and "database" in capsys.readouterr().out


def test_compose_builds_this_dockerfile_with_sqlite_by_default_and_a_postgres_profile() -> None:
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "dockerfile: buddybot/deploy/Dockerfile" in compose and "context: ../.." in compose
    assert "BUDDYBOT_DB: ${BUDDYBOT_DB:-/data/buddybot.sqlite3}" in compose
    assert "profiles: [postgres]" in compose and "required: false" in compose
    assert "DISCORD_TOKEN: ${DISCORD_TOKEN:?" in compose  # refuses to start without a token


def test_systemd_unit_runs_the_bot_as_its_own_user() -> None:
    unit = (DEPLOY / "buddybot.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/buddybot/bin/buddybot run" in unit and "User=buddybot" in unit
    assert "EnvironmentFile=/etc/buddybot.env" in unit  # the token stays out of the unit file


def test_the_repository_top_level_stays_as_agreed() -> None:
    tracked = {p.name for p in ROOT.iterdir() if not p.name.startswith(".") or p.name == ".ci"}
    allowed = {"pyproject.toml", "buddybot", "cogs", "migrations", "tests", "README.md", ".ci", "bench"}
    assert tracked - allowed <= {"build", "buddybot.egg-info", "__pycache__"}

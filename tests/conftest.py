"""Shared fixtures: the shipped rules loaded once, and a copy of the rules folder to break."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.loading import load_engine
from bot.paths import shipped_rules_dir

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return load_engine()


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped rules folder."""
    target = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), target)
    return target

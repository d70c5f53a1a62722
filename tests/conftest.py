"""Shared fixtures: the shipped rules loaded once, and a copy of the rules folder to break."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.loader import DEFAULT_RULES_DIR

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped rules folder."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target

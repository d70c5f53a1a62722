"""The README keeps up with the code: every command, setting, rule key, test and fact is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import build_parser
from bot.engine.loader import REWARD_KEYS, RULE_KEYS
from bot.engine.ruletests import OUTCOMES
from bot.settings import REGISTRY

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix}{name} ")
                found.extend(nested or [f"{prefix}{name}"])
    return found


def test_every_command_is_in_the_readme() -> None:
    for command in _commands(build_parser()):
        assert f"incentive-bot {command}" in README, command


def test_every_setting_is_in_the_readme() -> None:
    for setting in REGISTRY:
        assert setting.name in README, setting.name


def test_every_rule_key_and_reward_key_is_in_the_readme() -> None:
    for key in RULE_KEYS | REWARD_KEYS:
        assert f"{key}:" in README or f"`{key}`" in README, key


def test_every_rule_test_outcome_is_in_the_readme() -> None:
    for outcome in OUTCOMES:
        assert outcome in README, outcome


def test_every_fact_of_the_catalogue_is_in_the_vocabulary_table(engine) -> None:
    for fact in engine.ruleset.catalogue.questions:
        assert f"| {fact}" in README or f", {fact} |" in README, fact

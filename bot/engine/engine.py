"""One loaded rule set with its region index and matcher: what every channel and command works with."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.engine.loader import load_ruleset
from bot.engine.matching import Match, Matcher
from bot.engine.model import Question, RuleSet
from bot.engine.profile import parse_profile
from bot.engine.questions import next_question_for
from bot.engine.regions import RegionIndex, load_region_index


@dataclass(frozen=True)
class Engine:
    """Rules, regions and matcher, loaded together so a bad rule file never replaces good rules."""

    ruleset: RuleSet
    regions: RegionIndex
    matcher: Matcher

    @classmethod
    def load(cls, rules_dir: Path | None = None, data_dir: Path | None = None) -> Engine:
        """Loads and checks everything; raises SourceErrors (file:line) instead of returning broken rules."""
        ruleset = load_ruleset(rules_dir, data_dir)
        regions = load_region_index()
        return cls(ruleset, regions, Matcher(ruleset, regions))

    def parse_profile(self, raw: Any) -> dict[str, Any]:
        return parse_profile(raw, self.ruleset.catalogue, self.regions)

    def match(self, profile: dict[str, Any], today: date) -> Match:
        return self.matcher.match(profile, today)

    def next_question(
        self, profile: dict[str, Any], today: date, skipped: set[str] | frozenset = frozenset()
    ) -> Question | None:
        return next_question_for(self.matcher.match(profile, today), skipped)


def settle_heap() -> None:
    """Moves everything loaded so far out of the garbage collector's scans.

    A loaded rule set is tens of thousands of long-lived objects; without this, each full collection walks
    them all and shows up as a latency spike in the middle of a match. Call it once after start-up loading.
    """
    gc.collect()
    gc.freeze()

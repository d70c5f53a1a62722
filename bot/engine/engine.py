"""One compiled rule set with its region index and matcher: what every channel and command works with."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.engine.loader import RuleSources, load_ruleset
from bot.engine.matching import Match, Matcher
from bot.engine.model import ApplicationCall, Question, RuleSet
from bot.engine.profile import parse_profile
from bot.engine.questions import next_question_for
from bot.engine.regions import RegionIndex, region_index_from_yaml


@dataclass(frozen=True)
class Engine:
    """Rules, regions and matcher, compiled together so a bad rule file never replaces good rules."""

    ruleset: RuleSet
    regions: RegionIndex
    matcher: Matcher

    @classmethod
    def build(cls, sources: RuleSources) -> Engine:
        """Compiles and checks everything; raises SourceErrors (file:line) instead of returning broken rules."""
        regions = region_index_from_yaml(sources.regions)
        ruleset = load_ruleset(sources, regions)
        return cls(ruleset, regions, Matcher(ruleset, regions))

    def with_calls(self, calls: Iterable[ApplicationCall]) -> Engine:
        """The same rules with more application calls (those notices carried), whose deadlines then show."""
        ruleset = dataclasses.replace(self.ruleset, calls=(*self.ruleset.calls, *calls))
        return Engine(ruleset, self.regions, Matcher(ruleset, self.regions))

    def parse_profile(self, raw: Any) -> dict[str, Any]:
        return parse_profile(raw, self.ruleset.catalogue, self.regions)

    def match(self, profile: dict[str, Any], today: date) -> Match:
        return self.matcher.match(profile, today)

    def next_question(
        self, profile: dict[str, Any], today: date, skipped: set[str] | frozenset = frozenset()
    ) -> Question | None:
        return next_question_for(self.matcher.match(profile, today), skipped)

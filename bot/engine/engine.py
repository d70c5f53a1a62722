"""One compiled rule set with its region index and matcher: what every channel and command works with."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.engine.loader import RuleSources, load_ruleset
from bot.engine.matching import Match, Matcher
from bot.engine.model import ApplicationCall, Question, RuleSet
from bot.engine.profile import parse_profile
from bot.engine.questions import next_question_for
from bot.engine.regions import RegionIndex, region_index_from_csv


def sources_version(sources: RuleSources) -> str:
    """The first 12 hex digits of a SHA-256 over every file's place and text: the same files, the same version,
    wherever the folders are (each file is named by its part and name, "policies/jilin-pharma.yaml", not by the
    path it was read from, which differs between machines and working directories)."""
    digest = hashlib.sha256()
    parts = [("questions", [sources.catalogue]), ("regions", [sources.regions]), ("policies", sources.policies),
             ("calls", sources.calls), ("tests", sources.tests), ("documents", sources.documents),
             ("texts", sources.document_texts.values())]  # fmt: skip
    named = [(f"{part}/{_file_name(f.path)}", f.text) for part, files in parts for f in files if f is not None]
    for place, text in sorted(named):
        digest.update(f"{place}\0{text}\0".encode())
    return digest.hexdigest()[:12]


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Engine:
    """Rules, regions and matcher, compiled together so a bad rule file never replaces good rules."""

    ruleset: RuleSet
    regions: RegionIndex
    matcher: Matcher

    @classmethod
    def build(cls, sources: RuleSources, version: str | None = None) -> Engine:
        """Compiles and checks everything; raises SourceErrors (file:line) instead of returning broken rules.
        `version`: sources_version(sources), when the caller has it already."""
        regions = region_index_from_csv(sources.regions)
        version = sources_version(sources) if version is None else version
        ruleset = dataclasses.replace(load_ruleset(sources, regions), version=version)
        return cls(ruleset, regions, Matcher(ruleset, regions))

    @property
    def version(self) -> str:
        return self.ruleset.version

    def with_calls(self, calls: Iterable[ApplicationCall]) -> Engine:
        """The same rules with more application calls (those notices carried), whose deadlines then show."""
        calls = tuple(calls)
        if not calls:
            return self
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

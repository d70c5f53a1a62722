"""Checking a rules folder as a whole (files, quotes, rule tests and their coverage) and swapping it in while the
bot runs: a new rule set replaces the old one only when every check passes, so a typo never takes the bot down."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.engine import Engine
from bot.engine.loader import RuleSources
from bot.engine.ruletests import coverage_gaps, run_rule_tests
from bot.engine.yamlsource import SourceError, SourceErrors
from bot.loading import read_sources
from bot.store.base import ChatStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """A rules folder checked: the engine when every check passed, the problems (file and line order) otherwise."""

    engine: Engine | None
    summary: str = ""
    problems: list[SourceError] = field(default_factory=list)
    compiled: bool = True  # False: the files themselves were refused, so no rule test ran
    version: str = ""  # a hash of every text the rule set is compiled from


def check_rules(rules_dir: Path | None, data_dir: Path | None) -> Checked:
    """Reads and compiles the folder, then runs its rule tests and their coverage check."""
    sources = read_sources(rules_dir, data_dir)
    version = _version(sources)
    try:
        engine = Engine.build(sources)
    except SourceErrors as exc:
        return Checked(None, "the rules were not loaded", ordered_problems(exc.errors), compiled=False, version=version)
    report, coverage = run_rule_tests(sources.tests, engine.matcher)
    ruleset = engine.ruleset
    summary = (
        f"{len(ruleset.rules)} rules from {len(ruleset.documents)} documents, {len(ruleset.calls)} application "
        f"calls, {report.cases} rule tests"
    )
    problems = report.failures + coverage_gaps(ruleset.rules, coverage)
    return Checked(None if problems else engine, summary, ordered_problems(problems), version=version)


def _version(sources: RuleSources) -> str:
    """The first 12 hex digits of a SHA-256 over every file's path and text: the same files, the same version."""
    digest = hashlib.sha256()
    files = [sources.catalogue, sources.regions, *sources.policies, *sources.calls, *sources.tests, *sources.documents,
             *sources.document_texts.values()]  # fmt: skip
    for source in sorted((f for f in files if f is not None), key=lambda f: f.path):
        digest.update(f"{source.path}\0{source.text}\0".encode())
    return digest.hexdigest()[:12]


def ordered_problems(problems: list[SourceError]) -> list[SourceError]:
    """Each problem once, by file and line (loading reports them in the order it met them)."""
    return sorted(dict.fromkeys(problems), key=lambda p: (p.path, p.line))


class Reloader:
    """Reloads the rules into a running bot: checked off the event loop, swapped in only when all is well."""

    def __init__(self, live: object, store: ChatStore, rules_dir: Path | None, data_dir: Path | None):
        self.live, self.store, self.rules_dir, self.data_dir = live, store, rules_dir, data_dir
        self._lock = asyncio.Lock()

    async def reload(self, actor: str) -> Checked:
        """Checks and swaps in the rules folder; the attempt, its version and outcome go to the audit log."""
        checked = await self._reload()
        detail = {"version": checked.version, "applied": checked.engine is not None, "problems": len(checked.problems)}
        await self.store.audit(actor, "reload", detail)
        return checked

    async def _reload(self) -> Checked:
        async with self._lock:  # two reloads at once would race to swap
            try:
                checked = await asyncio.to_thread(check_rules, self.rules_dir, self.data_dir)
            except OSError as exc:  # the folder itself is gone or unreadable
                problem = SourceError(str(self.rules_dir or "rules"), 0, f"cannot be read: {exc.strerror or exc}")
                checked = Checked(None, "the rules were not loaded", [problem], compiled=False)
            if checked.engine is not None:
                self.live.replace(checked.engine)
                log.info("rules version %s reloaded: %s", checked.version, checked.summary)
            else:
                log.warning("rules not reloaded, %d problem(s); the rules in use stay", len(checked.problems))
            return checked

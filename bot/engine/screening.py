"""Screening questions: one checklist of the year's events answers several facts at once.

A screening question offers the options of the multi-choice facts it screens (approvals, projects) beside options
of its own, each of which may say what other facts are when it is not chosen ("no idle variety revived": its
sales are 0). Its answer is spread over those facts before matching; a fact answered directly keeps its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.model import Catalogue


class Screens:
    """The screening questions of a catalogue, worked out once per rule set."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.questions = tuple(question for question in catalogue.questions.values() if question.screening)
        # Each fact a screening question answers, with that question's fact.
        self.owner: dict[str, str] = {}
        for question in self.questions:
            for target in question.screens:
                self.owner[target] = question.fact
            for option in question.options:
                for target, _ in option.if_not_chosen:
                    self.owner[target] = question.fact

    def expand(self, profile: Mapping[str, Any]) -> Mapping[str, Any]:
        """The profile with what its screening answers say about the facts they screen (the profile itself when
        it has none). A fact answered directly keeps its answer."""
        answered = [(q, chosen) for q in self.questions if isinstance(chosen := profile.get(q.fact), list | tuple)]
        if not answered:
            return profile
        expanded = dict(profile)
        for question, chosen in answered:
            picked = set(chosen)
            for target in question.screens:
                if expanded.get(target) is None:
                    options = self.catalogue[target].options
                    expanded[target] = [option.value for option in options if option.value in picked]
            for option in question.options:
                if option.value in picked:
                    continue
                for target, value in option.if_not_chosen:
                    if expanded.get(target) is None:
                        expanded[target] = value
        return expanded

"""Reads a profile (facts as in the vocabulary) through the same parsing as chat answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rapidfuzz import process

from bot.engine.answers import parse_answer
from bot.engine.model import Catalogue, Profile
from bot.engine.parsing import Invalid
from bot.engine.regions import RegionIndex


class ProfileError(ValueError):
    """A profile that cannot be understood: the fact, and either the parse problem or what is wrong otherwise.

    `problem` is an Invalid for a value that cannot be read (handlers word it for the question), or None with
    `message` saying in English what is wrong with the profile's shape.
    """

    def __init__(self, fact: str, problem: Invalid | None = None, message: str = ""):
        self.fact, self.problem, self.message = fact, problem, message
        if problem is not None and not message:
            shown = f" '{problem.excerpt}'" if problem.excerpt else ""
            message = f"{problem.problem.replace('_', ' ')}{shown}"
        super().__init__(f"{fact}: {message}")


def parse_profile(raw: Any, catalogue: Catalogue, regions: RegionIndex) -> Profile:
    """Typed facts from a mapping of fact -> value; null leaves a fact unknown. Raises ProfileError."""
    if not isinstance(raw, Mapping):
        raise ProfileError("profile", message="a profile is a mapping of facts, e.g. 'region: 吉林省长春市'")
    profile: Profile = {}
    for fact, value in raw.items():
        fact = str(fact)
        if fact not in catalogue:
            best = process.extractOne(fact, list(catalogue.questions), score_cutoff=70)
            hint = f" (did you mean '{best[0]}'?)" if best else ""
            raise ProfileError(fact, message=f"unknown fact{hint}")
        if value is None:
            continue
        result = parse_answer(catalogue[fact], value, regions)
        if isinstance(result, Invalid):
            raise ProfileError(fact, result)
        profile[fact] = result.value
    return profile

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
    """A profile value that cannot be understood; the message names the fact and says what to write."""

    def __init__(self, fact: str, message: str):
        self.fact = fact
        super().__init__(f"{fact}: {message}")


def parse_profile(raw: Any, catalogue: Catalogue, regions: RegionIndex) -> Profile:
    """Typed facts from a mapping of fact -> value; null leaves a fact unknown. Raises ProfileError."""
    if not isinstance(raw, Mapping):
        raise ProfileError("profile", "a profile is a mapping of facts, e.g. 'region: 吉林省长春市'")
    profile: Profile = {}
    for fact, value in raw.items():
        fact = str(fact)
        if fact not in catalogue:
            best = process.extractOne(fact, list(catalogue.questions), score_cutoff=70)
            hint = f" (did you mean '{best[0]}'?)" if best else ""
            raise ProfileError(fact, f"unknown fact{hint}")
        if value is None:
            continue
        result = parse_answer(catalogue[fact], value, regions)
        if isinstance(result, Invalid):
            shown = "" if str(value) in result.reason else f":“{value}”"
            raise ProfileError(fact, f"{result.reason}{shown}。{result.hint}")
        profile[fact] = result.value
    return profile

"""Chooses the next question: the one whose answer can change the most results that are still open."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.engine.matching import Match
from bot.engine.model import Question


def open_questions(match: Match, skipped: Iterable[str] = ()) -> Counter[str]:
    """How many open results each unanswered fact can decide now, asking each rule's requirements in order."""
    skipped = set(skipped)
    scores: Counter[str] = Counter()
    for result in match.undetermined:
        # The first open requirement that still has a question left decides what is worth asking.
        for group in result.ask_order:
            wanted = [f for f in group if f not in skipped and match.profile.get(f) is None]
            if wanted:
                scores.update(wanted)
                break
    return scores


def estimate_questions(match: Match, skipped: Iterable[str] = ()) -> Counter[str]:
    """Facts that only sharpen the estimate of a reward already matched (loan, equipment investment)."""
    skipped = set(skipped)
    scores: Counter[str] = Counter()
    for result in match.eligible:
        for fact in result.rule.reward.formula_facts():
            if match.profile.get(fact) is None and fact not in skipped:
                scores[fact] += 1
    return scores


def facts_left(match: Match, skipped: Iterable[str] = ()) -> set[str]:
    """Every fact the interview may still ask for: those that could decide an open result, and those that sharpen
    an estimate. Answers usually settle results before all of them are asked, so this is an upper bound that only
    shrinks as the interview goes on."""
    return (match.missing_facts() | set(estimate_questions(match, skipped))) - set(skipped)


def next_question_for(match: Match, skipped: Iterable[str] = ()) -> Question | None:
    """Like next_question, for a match already computed."""
    skipped = set(skipped)
    catalogue = match.matcher.ruleset.catalogue
    for scores in (open_questions(match, skipped), estimate_questions(match, skipped)):
        if scores:
            best = max(scores, key=lambda fact: (scores[fact], -catalogue[fact].order))
            return catalogue[best]
    return None

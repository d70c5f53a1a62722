"""Chooses the next question: the one whose answer can change the most results that are still open."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.engine.matching import Match
from bot.engine.model import AMOUNTLESS_KINDS, Question


def open_questions(match: Match, skipped: Iterable[str] = ()) -> Counter[str]:
    """How many open results each unanswered fact can decide now, asking each rule's requirements in order.

    Only rewards count: a tax measure or a cultivation list is applied for elsewhere, so a question that could
    only settle one of those is not worth the contact's time (it is listed among the related policies)."""
    skipped = set(skipped)
    scores: Counter[str] = Counter()
    for result in match.undetermined:
        if result.rule.reward.kind in AMOUNTLESS_KINDS:
            continue
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
    """Every fact the interview may still ask for, as it would ask them: those that could decide an open reward
    (through the screening question that stands for them), and those that sharpen an estimate once the contact
    asked for one. Answers usually settle results before all of them are asked, so this is an upper bound that
    only shrinks as the interview goes on."""
    skipped = set(skipped)
    facts = Counter(
        fact
        for result in match.undetermined
        if result.rule.reward.kind not in AMOUNTLESS_KINDS
        for fact in result.missing
    )
    if _estimating(match, skipped):
        facts.update(estimate_questions(match, skipped))
    return set(_through_screens(facts, match, skipped)) - skipped


def _estimating(match: Match, skipped: set[str]) -> bool:
    """The contact asked for estimates: it answered or skipped a fact only an estimate needs."""
    return any(fact in match.profile or fact in skipped for fact in match.matcher.estimate_only)


def next_question_for(match: Match, skipped: Iterable[str] = ()) -> Question | None:
    """Like next_question, for a match already computed.

    A fact a screening question answers is asked through it (one checklist settles many rules) until that is
    answered or skipped; its score is the sum of theirs. Facts only an estimate needs (a loan's rate) are asked
    once the contact has asked for estimates (answered or skipped one of them): they change no result."""
    skipped = set(skipped)
    matcher = match.matcher
    catalogue = matcher.ruleset.catalogue
    estimating = _estimating(match, skipped)
    for scores in (open_questions(match, skipped), estimate_questions(match, skipped) if estimating else Counter()):
        scores = _through_screens(scores, match, skipped)
        if scores:
            best = max(scores, key=lambda fact: (scores[fact], -catalogue[fact].order))
            return catalogue[best]
    return None


def estimates_open(match: Match, skipped: Iterable[str] = ()) -> list[Question]:
    """The questions that would sharpen the estimate of a reward already matched, in catalogue order."""
    catalogue = match.matcher.ruleset.catalogue
    return sorted((catalogue[f] for f in estimate_questions(match, skipped)), key=lambda q: q.order)


def _through_screens(scores: Counter[str], match: Match, skipped: set[str]) -> Counter[str]:
    owner = match.matcher.screens.owner
    routed: Counter[str] = Counter()
    for fact, score in scores.items():
        screen = owner.get(fact)
        if screen is not None and screen not in skipped and match.profile.get(screen) is None:
            routed[screen] += score
        else:
            routed[fact] += score
    return routed

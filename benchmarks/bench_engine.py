"""Prints match and next-question times on the shipped rules and on 10,000 generated rules, and the time to read a
region answer.

Run: python benchmarks/bench_engine.py [--rules N] [--repeat N]
Targets (2-core machine): shipped rules under 1 ms per match; 10,000 rules under 20 ms per match and
under 100 ms per next question; a region answer under 5 ms, suggestions for an unknown name included; the personas
of the tests (Jilin enterprises of every industry, enterprises elsewhere) reach their complete answer in a median
of at most 7 questions, none in more than 10.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine import conditions as c
from bot.engine.engine import Engine
from bot.engine.matching import Matcher
from bot.engine.model import NUMERIC_TYPES, Reward, RuleSet
from bot.engine.parsing import parse_region
from bot.engine.questions import next_question_for
from bot.loading import load_engine, settle_heap
from tests.engine.test_questions import PERSONAS, interview

TODAY = date(2026, 11, 22)
YI = 100_000_000

PARTIAL = {"region": "吉林省/长春市", "industries": ["biologics"], "revenue": 12 * YI}
# The richest persona of the tests: a distributor for whom almost every question matters.
FULL = PERSONAS["a Tonghua distributor"]


def generated_ruleset(engine: Engine, count: int, seed: int = 7) -> RuleSet:
    """Rules shaped like the real ones (regions at every level, 1-4 conditions, nesting) in bulk."""
    rng = random.Random(seed)
    catalogue = engine.ruleset.catalogue
    questions = [q for q in catalogue.questions.values() if q.fact != "region"]
    numeric = [q for q in questions if q.type in NUMERIC_TYPES]
    template = engine.ruleset.rules[0]
    regions = sorted({r.region for r in engine.ruleset.rules} | {"吉林省/长春市", "吉林省/通化市", "广东省", "浙江省"})

    def leaf() -> c.Condition:
        question = rng.choice(questions)
        if question.type in NUMERIC_TYPES:
            op = rng.choice(list(c.COMPARISONS))
            if question.fact == "revenue" and rng.random() < 0.3:
                return c.FirstCrossing(question, catalogue["revenue_last_year"], op, rng.choice([10, 20, 50]) * YI)
            return c.Compare(question, op, rng.choice([1, 5, 10, 30]) * 10_000_000)
        if question.type == "multi_choice":
            picks = rng.sample([o.value for o in question.options], k=rng.randint(1, 2))
            return c.Contains(question, tuple(picks))
        return c.Equals(question, rng.random() < 0.7)

    def condition() -> c.Condition:
        parts = [leaf() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            parts.append(c.AnyOf([leaf(), leaf()]))
        return c.AllOf(parts)

    rules = []
    for i in range(count):
        formula = (rng.choice(numeric).fact, 0.2) if rng.random() < 0.1 else ()
        reward = Reward("cash_reward", cap=rng.choice([50, 100, 200]) * 10_000, formula=formula)
        rules.append(
            replace(
                template,
                id=f"gen-{i}",
                region=rng.choice(regions),
                condition=condition(),
                valid_from=None,
                valid_until=None,
                reward=reward,
            )
        )
    return RuleSet(catalogue, engine.ruleset.documents, tuple(rules), engine.ruleset.calls)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and 99th-percentile milliseconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def report(name: str, matcher: Matcher, repeat: int, match_target: float, question_target: float) -> None:
    print(f"\n{name}: {len(matcher.ruleset.rules)} rules")
    for label, profile in (("partial profile (3 facts)", PARTIAL), ("full profile", FULL)):
        med, p99 = timed(lambda p=profile: matcher.match(p, TODAY), repeat)
        status = "ok" if med < match_target else "OVER TARGET"
        print(f"  match, {label:<26} median {med:8.3f} ms  p99 {p99:8.3f} ms  (target < {match_target} ms: {status})")
        med, p99 = timed(lambda p=profile: next_question_for(matcher.match(p, TODAY)), repeat)
        status = "ok" if med < question_target else "OVER TARGET"
        print(
            f"  next question, {label:<18} median {med:8.3f} ms  p99 {p99:8.3f} ms  "
            f"(target < {question_target} ms: {status})"
        )


def interview_lengths(engine: Engine) -> bool:
    """Questions each persona of the tests is asked before nothing can change a reward it may claim, and their
    median: at most 7, and no persona over 10."""
    total = len(engine.ruleset.catalogue)
    print(f"\ninterview length (catalogue: {total} questions; the checklist of the year's events counts as one)")
    lengths = []
    for name, truth in sorted(PERSONAS.items()):
        asked = interview(engine, truth)
        lengths.append(len(asked))
        print(f"  {name:<60} {len(asked):>2} questions: {', '.join(asked)}")
    median, most = statistics.median(lengths), max(lengths)
    met = median <= MEDIAN_QUESTIONS_TARGET and most <= MOST_QUESTIONS_TARGET
    print(
        f"  {len(lengths)} personas: median {median:g} questions (target <= {MEDIAN_QUESTIONS_TARGET}), most {most} "
        f"(target <= {MOST_QUESTIONS_TARGET}): {'ok' if met else 'OVER TARGET'}"
    )
    return met


MEDIAN_QUESTIONS_TARGET, MOST_QUESTIONS_TARGET = 7, 10


# Region answers of every kind: a name, a path, Traditional, pinyin, a zone, ambiguous, misspelt (suggestions).
REGION_ANSWERS = ["长春", "吉林省吉林市船营区", "深圳市南山区", "東昌區", "Changchun, Jilin", "长春经开区",
                  "成都高新区", "朝阳区", "广洲", "Changchu", "吉林省/通化市/梅河口市"]  # fmt: skip
REGION_TARGET_MS = 5.0


def region_answers(engine: Engine, repeat: int) -> None:
    """Times parse_region on each kind of answer, after a first lookup of each (the index is built lazily)."""
    for text in REGION_ANSWERS:
        parse_region(text, engine.regions)
    print("\nregion answers (national list)")
    for text in REGION_ANSWERS:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            parse_region(text, engine.regions)
            times.append((time.perf_counter() - start) * 1000)
        med = statistics.median(times)
        status = "ok" if med < REGION_TARGET_MS else "OVER TARGET"
        target = f"(target < {REGION_TARGET_MS} ms: {status})"
        print(f"  {text:<24} median {med:7.3f} ms  max {max(times):7.3f} ms  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    engine = load_engine()
    print(f"loading the shipped rules (catalogue, 5 documents, quotes checked): {time.perf_counter() - start:.2f} s")
    big = Matcher(generated_ruleset(engine, args.rules), engine.regions)
    settle_heap()  # as the bot does after loading its rules
    report("shipped rules", engine.matcher, args.repeat * 10, 1.0, 1.0)
    report("generated rules", big, args.repeat, 20.0, 100.0)
    interview_lengths(engine)
    region_answers(engine, args.repeat)


if __name__ == "__main__":
    main()

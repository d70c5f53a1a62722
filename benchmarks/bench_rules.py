"""Prints the time to check and swap in the shipped rules and 10,000 generated rules, and the reply latency of
interviews while the rules are reloaded 20 times.

Run: python benchmarks/bench_rules.py [--rules 10000] [--runs 15] [--big-runs 1] [--reloads 20] [--contacts 30]
                                      [--switch-interval MS] [--profile] [--quick]

Check and swap: `check_rules` (every file read and compiled, every quote found in its document, the rule tests run
and their coverage checked, as /reload does) and then `LiveEngine.replace`, the swap the bot makes on its event loop.
First on the shipped rules folder, then on a copy of it with generated rule files on the Jilin document added:
rules with one to three requirements (some an any-of) over the facts of rules/questions.yaml, each quoting a
piece of a sentence of that document, in files of 1,000, and rule tests that cover every one as `rules check`
demands (a case where it is eligible, one where it is not, and one exactly at each threshold it compares). The
tests are written the way the shipped ones are, one profile per case with the outcome of many rules. Then where
the time of that check went, step by step; with --profile, cProfile's view of one more check (slow: it takes about
three times as long under the profiler). A check that has more than a megabyte of rule files to compile shares
them with worker processes, one per core but one (bot.compiling), as the bot does; the first such check starts them.

Reloads under load: the bot's update cycle in this process, as `serve` wires it (Dispatcher, the enterprise
conversation on a LiveEngine, the admin handler with a Reloader, the delivery worker, a SQLite database), with a
sender that shows messages nowhere and no rate limit (TELEGRAM_RATE_LIMIT=0). Contacts go through interviews
over and over, pausing a moment before each answer. First a baseline without reloads, then a phase in which an
admin sends /reload 20 times (a copy of the shipped rules with one file edited before each) while they go on. As
in `serve`, a reload is checked in a child process (it reads, compiles and tests the files), and this one builds
the engine in a thread from the rules the child compiled and swaps it in. A reply's latency is from handing its
update to the dispatcher until its messages are sent, as the Telegram channel does. Printed: p50/p99/max of the
replies before the reloads, of those in the gaps between reloads (more than 100 ms clear of any), of both together
(the replies without reloads the target compares with: taken from the same seconds as the reloads too, so a machine
that slows down or speeds up during the run moves both sides alike), and of the replies that overlapped a reload;
and how late the event loop ran. The building thread competes
for the GIL with the event loop and with the database's thread; --switch-interval sets how long a thread may keep
the GIL (sys.setswitchinterval) to see what that costs.

Targets: shipped rules < 200 ms, 10,000 rules < 3 s (check and swap); no reply during a reload slower than 2x the
p99 without reloads. --quick: a smoke run (1,000 generated rules, a few runs, 3 reloads).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import compiling, reloading  # noqa: E402
from bot.channels.telegram import CHANNEL, coalesce  # noqa: E402
from bot.dispatcher import Dispatcher  # noqa: E402
from bot.engine import conditions as c  # noqa: E402
from bot.engine import loader, yamlsource  # noqa: E402
from bot.engine.engine import Engine  # noqa: E402
from bot.engine.loader import POLICY_DIR, TESTS_DIR  # noqa: E402
from bot.engine.regions import region_index_from_csv  # noqa: E402
from bot.engine.ruletests import as_written  # noqa: E402
from bot.loading import load_engine, read_sources, settle_heap  # noqa: E402
from bot.messages import ChatKey, Delivery, Incoming, Outgoing  # noqa: E402
from bot.notices import LiveEngine, NoticeDesk  # noqa: E402
from bot.outbox import Deliverer  # noqa: E402
from bot.paths import shipped_rules_dir  # noqa: E402
from bot.reloading import Checked, Reloader, check_rules  # noqa: E402
from bot.store.memory import MemoryChatStore  # noqa: E402
from bot.store.sql import SqlChatStore, migrate  # noqa: E402
from handlers.admin import AdminHandler  # noqa: E402
from handlers.enterprise import EnterpriseConversation  # noqa: E402
from handlers.official import NoticeDialogue  # noqa: E402
from handlers.render import DONE, SKIP, TOGGLE  # noqa: E402

TARGET_SHIPPED_S = 0.2
TARGET_GENERATED_S = 3.0
TARGET_RELOAD_FACTOR = 2.0
# How long after a reload a reply is still counted as near it (not among the replies between reloads).
SETTLE_S = 0.1

JILIN_DOCUMENT = "jilin-pharma"
# The Jilin text ends with an unrelated news article (see its metadata): quotes come from the policy before it.
UNRELATED_TAIL = "创新“八图一表”"
RULES_PER_FILE = 1_000  # a policy file of 1,000 generated rules is about 460 KB; the loader reads at most 1 MiB
TEST_FILES = 4
TEST_DATE = "2026-11-22"
PROFILES = 32  # the profiles of the generated tests; every rule is covered by a few of them
YI, WAN = 100_000_000, 10_000
THRESHOLDS = [1000 * WAN, 2000 * WAN, 5000 * WAN, 1 * YI, 3 * YI, 10 * YI, 30 * YI, 50 * YI]
# Rule scopes and the contacts' regions: the province, some of its cities, and districts below them.
RULE_REGIONS = ["吉林省"] * 6 + ["吉林省/长春市", "吉林省/通化市", "吉林省/吉林市", "吉林省/白山市"]
PROFILE_REGIONS = ["吉林省长春市", "吉林省通化市", "吉林省吉林市", "吉林省白山市", "吉林省延边朝鲜族自治州",
                   "长春市二道区", "通化市东昌区", "吉林省四平市"]  # fmt: skip
COMPARISON_OPS = list(c.COMPARISONS)

ADMIN = 7_000_001
FIRST_CONTACT = 100_000


# Generated rules and their tests


@dataclass
class Leaf:
    """One requirement of a generated rule, as written in the rule file and as tested here."""

    fact: str
    op: str
    value: Any
    previous: str | None = None

    def yaml(self) -> str:
        if self.op in ("contains", "is"):
            shown = json.dumps(self.value) if self.op == "is" else self.value
            return f"{{fact: {self.fact}, {self.op}: {shown}}}"
        if self.op == "contains_any":
            return f"{{fact: {self.fact}, contains_any: [{', '.join(self.value)}]}}"
        previous = f", previous: {self.previous}" if self.previous else ""
        return f"{{fact: {self.fact}, {self.op}: {as_written(self.value)}{previous}}}"

    def holds(self, profile: dict[str, Any]) -> bool:
        if self.op == "contains":
            return self.value in profile[self.fact]
        if self.op == "contains_any":
            return any(value in profile[self.fact] for value in self.value)
        if self.op == "is":
            return profile[self.fact] == self.value
        if self.previous:
            compare = c.COMPARISONS[self.op.removeprefix("first_")]
            return compare(profile[self.fact], self.value) and not compare(profile[self.previous], self.value)
        return c.COMPARISONS[self.op](profile[self.fact], self.value)

    def thresholds(self) -> list[tuple[str, int]]:
        if self.op in ("contains", "contains_any", "is"):
            return []
        return [(self.fact, self.value)] + ([(self.previous, self.value)] if self.previous else [])


@dataclass
class GeneratedRule:
    """A rule on the Jilin document: all of its leaves, and one of its alternatives if it has any."""

    id: str
    region: str
    leaves: list[Leaf]
    alternatives: list[Leaf]  # an any-of beside the leaves, or none
    quote: str
    clause: str
    reward: str

    def holds(self, profile: dict[str, Any], within: Callable[[str, str], bool]) -> bool:
        return (
            within(profile["region"], self.region)
            and all(leaf.holds(profile) for leaf in self.leaves)
            and (not self.alternatives or any(leaf.holds(profile) for leaf in self.alternatives))
        )

    def thresholds(self) -> set[tuple[str, int]]:
        return {pair for leaf in [*self.leaves, *self.alternatives] for pair in leaf.thresholds()}

    def yaml(self) -> str:
        title = f"生成规则 {self.id.removeprefix('gen-')}:{self.quote[:16]}"
        lines = [
            f"  - id: {self.id}",
            f"    title: {json.dumps(title, ensure_ascii=False)}",
            f'    clause: "{self.clause}"',
            f"    quote: {json.dumps(self.quote, ensure_ascii=False)}",
            f"    region: {self.region}",
        ]
        if len(self.leaves) == 1 and not self.alternatives:
            lines.append(f"    when: {self.leaves[0].yaml()}")
        else:
            lines += ["    when:", "      all:"]
            lines += [f"        - {leaf.yaml()}" for leaf in self.leaves]
            if self.alternatives:
                lines.append("        - any:")
                lines += [f"            - {leaf.yaml()}" for leaf in self.alternatives]
        lines += [f"    reward: {self.reward}", "    department: null", ""]
        return "\n".join(lines)


class RuleWriter:
    """Writes rules on the Jilin document whose every requirement is decided by a small set of test profiles."""

    def __init__(self, engine: Engine, seed: int):
        self.rng = random.Random(seed)
        self.regions = engine.regions
        catalogue = engine.ruleset.catalogue
        questions = list(catalogue.questions.values())
        self.choices = {q.fact: [o.value for o in q.options] for q in questions if q.type == "multi_choice"}
        self.flags = [q.fact for q in questions if q.type == "bool"]
        money = [q.fact for q in questions if q.type == "money"]
        # 首次超过: this year's figure and last year's, as revenue and revenue_last_year.
        self.crossings = [(fact, f"{fact}_last_year") for fact in money if f"{fact}_last_year" in catalogue]
        self.amounts = [fact for fact in money if not fact.endswith("_last_year")]
        self.money = money
        self.sentences = self._sentences(engine)
        self.profiles = [self._profile(index) for index in range(PROFILES)]
        # As a test file writes them: the region as a person would, the rest as values.
        self.profile_texts = [
            json.dumps({**profile, "region": PROFILE_REGIONS[index % len(PROFILE_REGIONS)]}, ensure_ascii=False)
            for index, profile in enumerate(self.profiles)
        ]

    @staticmethod
    def _sentences(engine: Engine) -> list[str]:
        text = engine.ruleset.documents[JILIN_DOCUMENT].text.split(UNRELATED_TAIL)[0]
        flat = "".join(text.split())
        return [s + "。" for s in flat.split("。") if len(s) >= 12]

    def _profile(self, index: int) -> dict[str, Any]:
        """Facts for every question a generated rule asks: the first 16 profiles put each threshold on each money
        fact twice (boundary tests), the rest lie between thresholds; richer and poorer choices alternate."""
        rng = random.Random(index)
        richness = (index % 4 + 1) / 5
        profile: dict[str, Any] = {"region": self.regions.lookup(PROFILE_REGIONS[index % len(PROFILE_REGIONS)])[0]}
        for fact, options in self.choices.items():
            profile[fact] = [option for option in options if rng.random() < richness]
        for fact in self.flags:
            profile[fact] = rng.random() < 0.5 + richness / 3
        for position, fact in enumerate(self.money):
            if index < 16:
                profile[fact] = THRESHOLDS[(index + 3 * position) % len(THRESHOLDS)]
            else:
                low = rng.randrange(len(THRESHOLDS) - 1)
                profile[fact] = (THRESHOLDS[low] + THRESHOLDS[low + 1]) // 2 if rng.random() < 0.8 else 0
        return profile

    def _leaf(self) -> Leaf:
        kind = self.rng.random()
        if kind < 0.35:
            fact = self.rng.choice(list(self.choices))
            options = self.choices[fact]
            if self.rng.random() < 0.5:
                return Leaf(fact, "contains", self.rng.choice(options))
            return Leaf(fact, "contains_any", self.rng.sample(options, k=min(2, len(options))))
        if kind < 0.55:
            return Leaf(self.rng.choice(self.flags), "is", self.rng.random() < 0.8)
        if kind < 0.7 and self.crossings:
            fact, previous = self.rng.choice(self.crossings)
            op = self.rng.choice(["first_more_than", "first_at_least"])
            return Leaf(fact, op, self.rng.choice(THRESHOLDS[2:]), previous)
        return Leaf(self.rng.choice(self.amounts), self.rng.choice(COMPARISON_OPS), self.rng.choice(THRESHOLDS))

    def _quote(self) -> str:
        sentence = self.rng.choice(self.sentences)
        length = self.rng.randint(12, 60)
        if len(sentence) <= length:
            return sentence
        start = self.rng.randrange(len(sentence) - length)
        return sentence[start : start + length]

    def _reward(self) -> str:
        kind = self.rng.choice(["cash_reward", "subsidy", "non_cash"])
        if kind == "non_cash":
            return "{kind: non_cash}"
        return f"{{kind: {kind}, cap: {self.rng.choice([20, 50, 80, 100, 200, 500])}万}}"

    def rule(self, number: int) -> tuple[GeneratedRule, dict[int, bool]]:
        """A new rule and the outcome for each of the profiles that cover it (eligible or not)."""
        while True:
            alternatives = [self._leaf(), self._leaf()] if self.rng.random() < 0.3 else []
            rule = GeneratedRule(
                id=f"gen-{number:05d}",
                region=self.rng.choice(RULE_REGIONS),
                leaves=[self._leaf() for _ in range(self.rng.randint(1, 3))],
                alternatives=alternatives,
                quote=self._quote(),
                clause=str(self.rng.randint(1, 25)),
                reward=self._reward(),
            )
            covered = self._covering(rule)
            if covered is not None:
                return rule, covered

    def _covering(self, rule: GeneratedRule) -> dict[int, bool] | None:
        """A few profiles that test the rule as `rules check` demands; None when these profiles cannot."""
        outcomes = [rule.holds(profile, self.regions.within) for profile in self.profiles]
        eligible = [i for i, holds in enumerate(outcomes) if holds]
        failing = [i for i, holds in enumerate(outcomes) if not holds]
        if not eligible or not failing:
            return None
        chosen = {self.rng.choice(eligible), self.rng.choice(failing)}
        for fact, value in sorted(rule.thresholds()):
            if any(self.profiles[i][fact] == value for i in chosen):
                continue
            at = [i for i, profile in enumerate(self.profiles) if profile[fact] == value]
            if not at:
                return None
            chosen.add(self.rng.choice(at))
        return {i: outcomes[i] for i in sorted(chosen)}


@dataclass
class Generated:
    """The rules folder written, and how much it holds beyond the shipped rules."""

    rules_dir: Path
    rules: int
    cases: int
    policy_bytes: int
    test_bytes: int


def write_generated_rules(engine: Engine, folder: Path, count: int, seed: int = 11) -> Generated:
    """A copy of the shipped rules folder with `count` generated rules and their tests added."""
    rules_dir = folder / "rules"
    shutil.copytree(shipped_rules_dir(), rules_dir)
    writer = RuleWriter(engine, seed)
    files = max(1, -(-count // RULES_PER_FILE))
    test_groups = min(TEST_FILES, files)
    expectations: list[dict[int, dict[str, str]]] = [defaultdict(dict) for _ in range(test_groups)]
    policy_bytes = test_bytes = cases = 0
    for file_number in range(files):
        numbers = range(file_number * RULES_PER_FILE, min(count, (file_number + 1) * RULES_PER_FILE))
        parts = [
            f"# Generated rules on the Jilin document ({len(numbers)} rules); quotes are pieces of its sentences.\n",
            f"document: {JILIN_DOCUMENT}\n\nrules:\n",
        ]
        group = expectations[file_number * test_groups // files]
        for number in numbers:
            rule, covered = writer.rule(number)
            parts.append(rule.yaml())
            for index, holds in covered.items():
                group[index][rule.id] = "eligible" if holds else "not_eligible"
        text = "".join(parts)
        policy_bytes += len(text.encode())
        (rules_dir / POLICY_DIR / f"generated-{file_number:02d}.yaml").write_text(text, encoding="utf-8")
    for group_number, group in enumerate(expectations):
        lines = [f"# Rule tests of the generated rules, part {group_number + 1}.\n", f"date: {TEST_DATE}\n\ntests:\n"]
        for index in sorted(group):
            cases += 1
            lines.append(f"  - name: Generated profile {index} gets the outcome worked out for each rule it covers\n")
            lines.append(f"    profile: {writer.profile_texts[index]}\n    expect:\n")
            lines += [f"      {rule_id}: {outcome}\n" for rule_id, outcome in group[index].items()]
        text = "".join(lines)
        test_bytes += len(text.encode())
        (rules_dir / TESTS_DIR / f"generated-{group_number + 1}.yaml").write_text(text, encoding="utf-8")
    return Generated(rules_dir, count, cases, policy_bytes, test_bytes)


# Check and swap


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def checked_or_exit(checked: Checked, rules_dir: Path | None) -> Engine:
    if checked.engine is None:
        print(f"the rules in {rules_dir or 'rules/'} did not pass the check ({checked.summary}):", file=sys.stderr)
        for problem in checked.problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(1)
    return checked.engine


@dataclass
class Runs:
    """Seconds per run: the check (wall clock and this thread's CPU) and the swap after it."""

    checks: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    swaps: list[float] = field(default_factory=list)
    summary: str = ""


def forget_parsed() -> None:
    """Empties what checks keep of the files they read (parsed YAML, the region index, cleaned documents), so the
    next check reads everything as the first one after start does."""
    yamlsource._kept_reads.clear()
    loader._compiled_files.clear()
    region_index_from_csv.cache_clear()
    loader._cleaned.cache_clear()


def time_check_and_swap(
    rules_dir: Path | None,
    live: LiveEngine,
    runs: int,
    steps: dict[str, float] | None = None,
    edited: Path | None = None,
    cold: bool = False,
) -> Runs:
    """Checks and swaps in the folder `runs` times; with `steps`, adds up the time of the check's steps. `edited`:
    a file changed before each check (as an admin's edit before a reload); `cold`: nothing kept from before."""
    timed = Runs()
    for run in range(runs):
        if cold:
            forget_parsed()
        if edited is not None:
            with edited.open("a", encoding="utf-8") as file:
                file.write(f"# edited before check {run + 1}\n")
        started, cpu = time.perf_counter(), time.thread_time()
        with timing_steps(steps) if steps is not None else nullcontext():
            checked = check_rules(rules_dir, None)
        timed.checks.append(time.perf_counter() - started)
        timed.cpu.append(time.thread_time() - cpu)
        engine = checked_or_exit(checked, rules_dir)
        started = time.perf_counter()
        live.replace(engine)
        timed.swaps.append(time.perf_counter() - started)
        timed.summary = checked.summary
        del checked, engine
    return timed


def report_check(name: str, runs: Runs, target: float) -> float:
    """Prints the runs against the target; returns the median of check and swap together."""
    totals = [check + swap for check, swap in zip(runs.checks, runs.swaps, strict=True)]
    median = statistics.median(totals)
    verdict = "ok" if median < target else "OVER TARGET"
    print(
        f"  {name}: check+swap median {median * 1000:7.0f} ms  p95 {percentile(totals, 0.95) * 1000:7.0f} ms  "
        f"max {max(totals) * 1000:7.0f} ms over {len(totals)} runs  (target < {target * 1000:.0f} ms: {verdict})\n"
        f"  {'':<{len(name)}}  the check's own CPU time: median {statistics.median(runs.cpu) * 1000:.0f} ms; "
        f"the swap (on the event loop): median {statistics.median(runs.swaps) * 1000:.1f} ms, "
        f"max {max(runs.swaps) * 1000:.1f} ms",
        flush=True,
    )
    return median


@contextmanager
def timing_steps(steps: dict[str, float]) -> Iterator[None]:
    """Adds up the time check_rules spends in each of its steps, by wrapping what bot.reloading calls for them."""
    wrapped = {"read_sources": "read the files", "run_rule_tests": "run the rule tests",
               "coverage_gaps": "coverage of the rule tests"}  # fmt: skip
    originals = {name: getattr(reloading, name) for name in wrapped if hasattr(reloading, name)}
    build = Engine.__dict__["build"]

    def timed(step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                steps[step] = steps.get(step, 0.0) + time.perf_counter() - started

        return run

    for name, function in originals.items():
        setattr(reloading, name, timed(wrapped[name], function))
    Engine.build = classmethod(timed("compile (YAML, rules, quotes, matcher)", build.__func__))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(reloading, name, function)
        Engine.build = build


def area(filename: str) -> str:
    """Where a function lives, for the profile's per-area totals: PyYAML, a module of the bot, or the rest."""
    path = filename.replace("\\", "/")
    if "/yaml/" in path:
        return "PyYAML (" + path.rsplit("/", 1)[-1].removesuffix(".py") + ")"
    for top in ("/bot/", "/handlers/"):
        if top in path:
            return top.strip("/") + "/" + path.split(top, 1)[1]
    if path.startswith("~") or path.startswith("<"):
        return "built-ins"
    return path.rsplit("/", 1)[-1]


def profile_check(rules_dir: Path, lines: int = 12) -> None:
    """Prints where one check spends its time: self time per area and per function, then the bot's functions by
    cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    check_rules(rules_dir, None)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt
    rows = [
        (area(filename), f"{area(filename)}:{line}({function})", calls, own, cumulative)
        for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items()
    ]
    by_area: dict[str, float] = defaultdict(float)
    for where, _, _, own, _ in rows:
        by_area[where] += own
    print(f"  cProfile of one check ({total:.2f} s under the profiler): self time by area")
    for where, seconds in sorted(by_area.items(), key=lambda item: -item[1])[:lines]:
        print(f"    {seconds:7.2f} s {seconds / total:5.0%}  {where}")
    print("  functions by self time (calls, self s, cumulative s)")
    for _, name, calls, own, cumulative in sorted(rows, key=lambda row: -row[3])[:lines]:
        print(f"    {calls:>9} {own:7.2f} {cumulative:7.2f}  {name}")
    print("  the bot's functions by cumulative time (calls, self s, cumulative s)")
    ours = [row for row in rows if row[0].startswith(("bot/", "handlers/"))]
    for _, name, calls, own, cumulative in sorted(ours, key=lambda row: -row[4])[:lines]:
        print(f"    {calls:>9} {own:7.2f} {cumulative:7.2f}  {name}")


# Interviews during reloads


class ShownSender:
    """Shows messages nowhere, at once: the time measured is the bot's own, not a network's."""

    async def send(self, delivery: Delivery) -> None:
        return None

    async def check(self) -> None:
        return None

    def messages(self, outgoing: Outgoing) -> int:
        return 1 if outgoing.text else 0


@dataclass
class Timed:
    """One reply: when its update was handed to the dispatcher (time.monotonic()) and how long it took."""

    posted: float
    seconds: float


class Stopped(Exception):
    """The measurement is over: the contact stops talking."""


@dataclass
class Contact:
    """One enterprise contact going through interviews again and again, pausing before each answer."""

    chat: ChatKey
    rng: random.Random
    think: tuple[float, float]
    stop: asyncio.Event
    timed: list[Timed] = field(default_factory=list)
    interviews: int = 0
    stalls: int = 0
    update_id: int = 0
    last: list[Outgoing] = field(default_factory=list)

    def incoming(self, **fields: Any) -> Incoming:
        self.update_id += 1
        return Incoming(self.chat, update_id=self.update_id, user_id=self.chat.id, language_code="zh-hans", **fields)

    def buttons(self) -> list[str]:
        return [b.data for m in self.last for row in m.buttons for b in row]

    def asked(self) -> str | None:
        """The fact of the open question (its skip button names it), or None once the results are shown."""
        skips = [data for data in self.buttons() if data.startswith(f"{SKIP}:")]
        return skips[-1].split(":", 1)[1] if skips else None


class Bot:
    """The update cycle of `serve` in this process: dispatcher, handlers, store, reloader and delivery worker."""

    def __init__(self, store: SqlChatStore, live: LiveEngine, reloader: Reloader):
        self.store, self.live, self.reloader = store, live, reloader
        self.sender = ShownSender()
        self.deliverer = Deliverer(store, {CHANNEL: self.sender})  # no rates: TELEGRAM_RATE_LIMIT=0
        self.dispatcher = Dispatcher(
            store,
            EnterpriseConversation(live, date.today),
            owner=self.deliverer.owner,
            combine={CHANNEL: coalesce},
            admin=AdminHandler(),
            first_admins=frozenset({ADMIN}),
            dialogue=NoticeDialogue(live),
            desk=NoticeDesk(store, live, date.today, live.refresh),
            reloader=reloader,
        )

    async def update(self, incoming: Incoming) -> list[Outgoing]:
        """What TelegramChannel.on_update does once the update is translated: dispatch, then send the replies."""
        deliveries = await self.dispatcher.receive(incoming)
        if not deliveries:
            self.deliverer.wake()
        await self.deliverer.send_now(deliveries)
        return [delivery.outgoing for delivery in deliveries]


async def say(bot: Bot, contact: Contact, **fields: Any) -> None:
    await asyncio.sleep(contact.rng.uniform(*contact.think))
    if contact.stop.is_set():
        raise Stopped
    started = time.monotonic()
    messages = await bot.update(contact.incoming(**fields))
    contact.timed.append(Timed(started, time.monotonic() - started))
    if not messages:
        contact.stalls += 1
    if any(m.text and not m.edit for m in messages):
        contact.last = messages
    elif messages:
        contact.last = [*contact.last[:-1], messages[-1]]


async def interview(bot: Bot, contact: Contact) -> None:
    """/start (starting over if asked), then region, industry by buttons, approvals in text, skips to the results."""
    await say(bot, contact, command="start")
    if "restart" in contact.buttons():
        await say(bot, contact, callback_data="restart")
    for _ in range(40):
        fact = contact.asked()
        if fact is None:
            contact.interviews += 1
            return
        if fact == "region":
            await say(bot, contact, text="長春")
        elif fact == "industries":
            await say(bot, contact, callback_data=f"{TOGGLE}:industries:biologics")
            await say(bot, contact, callback_data=f"{DONE}:industries")
        elif fact == "approvals":
            await say(bot, contact, text="临床试验许可")
        else:
            await say(bot, contact, callback_data=f"{SKIP}:{fact}")
    contact.stalls += 1


async def keep_interviewing(bot: Bot, contact: Contact) -> None:
    try:
        while True:
            await interview(bot, contact)
    except Stopped:
        return


async def watch_loop(lags: list[tuple[float, float]], stop: asyncio.Event, every: float = 0.005) -> None:
    """How late the event loop wakes a task that asked to sleep `every` seconds: how long it was held up."""
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(every)
        lags.append((started, time.monotonic() - started - every))


@dataclass
class Window:
    """When a reload ran: from /reload to its reply (time.monotonic())."""

    start: float
    end: float


def latency_line(name: str, samples: list[float]) -> str:
    if not samples:
        return f"  {name:<36} no replies"
    ms = [s * 1000 for s in samples]
    return (
        f"  {name:<36} {len(ms):>6} replies  p50 {statistics.median(ms):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms  "
        f"max {max(ms):7.1f} ms"
    )


async def reloads_under_load(args: argparse.Namespace, folder: Path) -> bool:
    database = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    await migrate(database)
    store = SqlChatStore.from_url(database)
    engine = load_engine()
    settle_heap()  # as serve does after loading its rules
    live = LiveEngine(engine, store)
    await live.refresh()
    # A copy of the shipped rules, one file of which is edited before each reload, as an admin's fix would be.
    reloaded = folder / "reloaded-rules"
    shutil.copytree(shipped_rules_dir(), reloaded)
    edited = reloaded / POLICY_DIR / "jilin-pharma.yaml"
    reloader = Reloader(live, store, reloaded, None)
    await reloader.start(read_sources(reloaded), "start")  # as serve does: the child checking reloads reads them now
    bot = Bot(store, live, reloader)
    stop, watching = asyncio.Event(), asyncio.Event()
    background = [asyncio.create_task(bot.deliverer.run(stop)), asyncio.create_task(live.run(stop))]
    rng = random.Random(5)
    think = (args.think_min, args.think_max)
    contacts = [
        Contact(ChatKey(CHANNEL, FIRST_CONTACT + i), random.Random(rng.random()), think, watching)
        for i in range(args.contacts)
    ]
    lags: list[tuple[float, float]] = []
    talking = [asyncio.create_task(keep_interviewing(bot, contact)) for contact in contacts]
    talking.append(asyncio.create_task(watch_loop(lags, watching)))
    reloads: list[Window] = []
    try:
        await asyncio.sleep(args.warmup)
        baseline_start = time.monotonic()
        await asyncio.sleep(args.baseline)
        reload_start = time.monotonic()
        admin = Contact(ChatKey(CHANNEL, ADMIN), rng, (0.0, 0.0), asyncio.Event())
        for number in range(args.reloads):
            await asyncio.sleep(args.reload_gap)
            with edited.open("a", encoding="utf-8") as file:
                file.write(f"# edited before reload {number + 1}\n")
            started = time.monotonic()
            await bot.update(admin.incoming(command="reload"))
            reloads.append(Window(started, time.monotonic()))
        await asyncio.sleep(args.reload_gap)
        reload_end = time.monotonic()
    finally:
        watching.set()
        stop.set()
        for outcome in await asyncio.gather(*talking, *background, return_exceptions=True):
            if isinstance(outcome, Exception):
                raise outcome
    audited = [entry for entry in await store.audit_log() if entry.action == "reload"]
    applied = sum(bool(entry.detail.get("applied")) for entry in audited)
    await store.close()

    everything = [t for contact in contacts for t in contact.timed]
    baseline = [t.seconds for t in everything if baseline_start <= t.posted and t.posted + t.seconds < reload_start]
    phase = [t for t in everything if reload_start <= t.posted and t.posted + t.seconds <= reload_end]
    overlapping = [
        t.seconds for t in phase if any(t.posted < w.end and t.posted + t.seconds > w.start for w in reloads)
    ]
    # Replies in the gaps between reloads, clear of each by SETTLE_S (what a reload leaves, such as a collection of
    # the engine it replaced, is counted with it): measured in the same seconds as the reloads, so a machine that
    # slows down or speeds up during the run moves both sides of the comparison alike.
    between = [
        t.seconds
        for t in phase
        if not any(t.posted < w.end + SETTLE_S and t.posted + t.seconds > w.start for w in reloads)
    ]
    without = baseline + between
    reload_seconds = [w.end - w.start for w in reloads]
    print(
        f"\nInterviews during reloads: {args.contacts} contacts pausing {think[0]:g}-{think[1]:g} s before each "
        f"answer, SQLite, in one process ({os.cpu_count()} cores)"
    )
    print(latency_line("before the reloads", baseline))
    print(latency_line(f"between reloads (>{SETTLE_S * 1000:.0f} ms clear)", between))
    print(latency_line("without reloads (both)", without))
    print(latency_line(f"during {args.reloads} reloads (the whole phase)", [t.seconds for t in phase]))
    print(latency_line("overlapping a reload", overlapping))
    print(
        f"  reloads: {len(reloads)} sent as /reload, {applied} applied (audit log); from /reload to its reply "
        f"median {statistics.median(reload_seconds) * 1000:.0f} ms, max {max(reload_seconds) * 1000:.0f} ms"
    )
    lag_base = [lag * 1000 for at, lag in lags if baseline_start <= at < reload_start]
    lag_reload = [lag * 1000 for at, lag in lags if any(w.start <= at < w.end for w in reloads)]
    if lag_base and lag_reload:
        print(
            f"  event loop held up (a 5 ms sleep woken late): without reloads p99 {percentile(lag_base, 0.99):.1f} ms, "
            f"max {max(lag_base):.1f} ms; during a reload p99 {percentile(lag_reload, 0.99):.1f} ms, "
            f"max {max(lag_reload):.1f} ms"
        )
    stalls = sum(contact.stalls for contact in contacts)
    interviews = sum(contact.interviews for contact in contacts)
    print(f"  {interviews} interviews finished, {len(everything)} updates, {stalls} without a reply")
    if not baseline or not between or not overlapping:
        print("  target: not measured (no replies in a phase)")
        return False
    p99 = percentile(without, 0.99)
    worst, p99_reload = max(overlapping), percentile(overlapping, 0.99)
    met = worst < TARGET_RELOAD_FACTOR * p99
    print(
        f"  slowest reply overlapping a reload / p99 without reloads = {worst * 1000:.1f} / {p99 * 1000:.1f} ms = "
        f"{worst / p99:.2f}x; its p99 = {p99_reload / p99:.2f}x  (target < {TARGET_RELOAD_FACTOR:g}x: "
        f"{'ok' if met else 'OVER TARGET'})"
    )
    for name, reference in (("before the reloads", baseline), ("between reloads", between)):
        print(f"    against the p99 {name} alone: {worst / percentile(reference, 0.99):.2f}x")
    # The same measure for as many replies of the baseline, drawn at random, none of them near a reload: what the
    # machine's own noise gives (the slowest of a few hundred replies is often near twice the p99 by itself).
    control = random.Random(7).sample(without, min(len(overlapping), len(without)))
    print(
        f"  for comparison, the slowest of {len(control)} replies without reloads / their p99 = "
        f"{max(control) / p99:.2f}x (the noise of this machine)"
    )
    return met and applied == len(reloads) and stalls == 0


# Main


def machine_speed() -> str:
    """How fast this machine runs Python now: the figures are for it. A shared machine's speed changes from hour to
    hour, and the same check can take half as long again; compare figures from runs whose loops took alike."""
    started, total = time.perf_counter(), 0
    for number in range(10_000_000):
        total += number
    return f"a fixed loop of 10 million additions took {time.perf_counter() - started:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--rules", type=int, default=10_000, help="generated rules added to the shipped ones")
    parser.add_argument("--runs", type=int, default=15, help="checks of the shipped rules")
    parser.add_argument("--big-runs", type=int, default=3, help="checks of the shipped plus generated rules, each way")
    parser.add_argument("--reloads", type=int, default=20)
    parser.add_argument("--reload-gap", type=float, default=0.4, help="seconds between one reload's end and the next")
    parser.add_argument("--contacts", type=int, default=30, help="contacts interviewing at the same time")
    parser.add_argument("--think-min", type=float, default=0.1, help="shortest pause before an answer (s)")
    parser.add_argument("--think-max", type=float, default=0.4, help="longest pause before an answer (s)")
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds of interviews without reloads")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of interviews before measuring")
    parser.add_argument("--profile", action="store_true", help="profile one check of the generated rules")
    parser.add_argument(
        "--switch-interval", type=float, help="ms a thread holds the GIL before handing over (Python's default: 5)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer rules, runs and reloads")
    args = parser.parse_args()
    if args.quick:
        args.rules, args.runs, args.big_runs, args.reloads = min(args.rules, 1_000), 3, 1, 3
        args.baseline, args.warmup, args.contacts = 2.0, 0.5, min(args.contacts, 10)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval / 1000)
    print(f"this machine now: {machine_speed()}", flush=True)
    started = time.perf_counter()
    engine = load_engine()
    print(f"loading the shipped rules at start-up: {time.perf_counter() - started:.2f} s", flush=True)
    live = LiveEngine(engine, MemoryChatStore())
    met = True

    print("\nCheck and swap (check_rules, then LiveEngine.replace)")
    print("  A reload reads every file, but parses again only those whose text changed; the first check after")
    print("  start parses everything. Both are timed; the targets are for a reload after an edit of one file.")
    with tempfile.TemporaryDirectory() as copy:
        shipped_copy = Path(copy) / "rules"
        shutil.copytree(shipped_rules_dir(), shipped_copy)
        first = time_check_and_swap(shipped_copy, live, max(3, args.runs // 3), cold=True)
        report_check("shipped rules, nothing parsed before", first, TARGET_SHIPPED_S)
        edited = shipped_copy / POLICY_DIR / "jilin-pharma.yaml"
        shipped = time_check_and_swap(shipped_copy, live, args.runs, edited=edited)
    print(f"  shipped: {shipped.summary}")
    met &= report_check("shipped rules, reloaded after an edit", shipped, TARGET_SHIPPED_S) < TARGET_SHIPPED_S

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        generated = write_generated_rules(engine, Path(folder), args.rules)
        print(
            f"  generated {generated.rules:,} rules ({generated.policy_bytes / 1e6:.1f} MB of rule files) and "
            f"{generated.cases} rule tests ({generated.test_bytes / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        steps: dict[str, float] = {}
        elsewhere = compiling.compiled_elsewhere
        cold = time_check_and_swap(generated.rules_dir, live, args.big_runs, cold=True)
        name = f"shipped + {args.rules:,} rules, nothing parsed before"
        report_check(name, cold, TARGET_GENERATED_S)
        files = (compiling.compiled_elsewhere - elsewhere) / args.big_runs
        workers = compiling._pool.workers
        shared = f"{files:.1f} of the rule files compiled by {workers} worker process{'es' * (workers > 1)} a run"
        print(f"  {'':<{len(name)}}  {shared if files else 'compiled by this process alone'}")
        edited = generated.rules_dir / POLICY_DIR / "generated-00.yaml"
        big = time_check_and_swap(generated.rules_dir, live, args.big_runs, steps, edited=edited)
        print(f"  shipped + generated: {big.summary}")
        name = f"shipped + {args.rules:,} rules, reloaded after an edit of one file"
        median = report_check(name, big, TARGET_GENERATED_S)
        met &= median < TARGET_GENERATED_S
        runs, total = len(big.checks), statistics.mean(big.checks)
        print(f"  where a check of {name} spends its {total:.2f} s (mean of {runs} run{'s' * (runs > 1)}):")
        for step, seconds in [*steps.items(), ("the rest (the version's hash, ordering problems)", None)]:
            seconds = total - sum(steps.values()) / runs if seconds is None else seconds / runs
            print(f"    {seconds:7.2f} s {seconds / total:5.0%}  {step}")
        if args.profile:
            profile_check(generated.rules_dir)
        live.replace(engine)  # lets the 10,000-rule engine go before the interviews
        del big
        met &= asyncio.run(reloads_under_load(args, Path(folder)))
    print(f"\nthis machine at the end: {machine_speed()}")
    print(f"targets: {'all met' if met else 'NOT all met'}")


if __name__ == "__main__":
    main()

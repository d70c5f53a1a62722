"""Checking a rules folder as a whole (files, quotes, rule tests and their coverage) and swapping it in while the
bot runs: a new rule set replaces the old one only when every check passes, so a typo never takes the bot down.

Every process on one database runs the same rule set: the one that puts a version in use records it, and the
others follow within seconds (`Reloader.follow`). Rule files admins send to the bot are stored in the database
and read with the folder by every process, after every restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from watchfiles import awatch

from bot.children import ChildPool
from bot.engine.deadlines import china_today
from bot.engine.engine import Engine, sources_version
from bot.engine.loader import (
    CALLS_DIR,
    POLICY_DIR,
    TESTS_DIR,
    CompiledFile,
    RuleSources,
    adopt_compiled_files,
    compiled_files,
    compiled_stamps,
)
from bot.engine.model import RuleSet
from bot.engine.ruletests import coverage_gaps, run_rule_tests
from bot.engine.yamlsource import Mapping, SourceError, SourceErrors, SourceFile, parse_yaml
from bot.loading import build_engine, collection_paused, decoded, read_sources, same_texts
from bot.messages import ChatKey
from bot.paths import shipped_rules_dir
from bot.store.base import ChatStore, NoticesUnavailable
from bot.store.rulesets import NewVersion, pack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """A rules folder checked: the engine when every check passed, the problems (file and line order) otherwise.

    After a reload, `previous` is the version it replaced and `announce` says this process is the one to tell
    the admins (the first to put the version in use, or to refuse it), so several processes tell them once.
    """

    engine: Engine | None
    summary: str = ""
    problems: list[SourceError] = field(default_factory=list)
    compiled: bool = True  # False: the files themselves were refused, so no rule test ran
    version: str = ""  # a hash of every text the rule set is compiled from
    sources: RuleSources | None = field(default=None, repr=False)
    previous: str = ""
    announce: bool = False
    changes: list[Change] | None = None  # contacts whose results the reload changed (None: not worked out)
    packed: bytes | None = field(default=None, repr=False)  # the texts packed as recorded (rulesets.pack), if done


def check_rules(rules_dir: Path | None, data_dir: Path | None, uploads: dict[str, str] | None = None) -> Checked:
    """Reads and compiles the folder (with the uploaded files), then runs its rule tests and their coverage."""
    return check_sources(read_sources(rules_dir, data_dir, uploads))


def check_sources(sources: RuleSources) -> Checked:
    """Compiles the texts, then runs their rule tests and the coverage check."""
    version = sources_version(sources)
    with collection_paused():  # one pause for both: the collector runs once, after the tests, not after each
        try:
            engine = build_engine(sources, version)
        except SourceErrors as exc:
            problems = ordered_problems(exc.errors)
            return Checked(None, "the rules were not loaded", problems, compiled=False, version=version,
                           sources=sources)  # fmt: skip
        report, coverage = run_rule_tests(sources.tests, engine.matcher)
    ruleset = engine.ruleset
    summary = (
        f"{len(ruleset.rules)} rules from {len(ruleset.documents)} documents, {len(ruleset.calls)} application "
        f"calls, {report.cases} rule tests"
    )
    problems = report.failures + coverage_gaps(ruleset.rules, coverage)
    return Checked(None if problems else engine, summary, ordered_problems(problems), version=version, sources=sources)


def ordered_problems(problems: list[SourceError]) -> list[SourceError]:
    """Each problem once, by file, line and column (loading reports them in the order it met them)."""
    return sorted(dict.fromkeys(problems), key=lambda p: (p.path, p.line, p.column))


# What a rule set is compiled from, as JSON, so a version in use can be rebuilt later (rules diff, changed contacts).


def sources_to_json(sources: RuleSources) -> dict[str, Any]:
    def pair(source: SourceFile | None) -> list[str] | None:
        return None if source is None else [source.path, source.text]

    return {
        "catalogue": pair(sources.catalogue),
        "regions": pair(sources.regions),
        **{kind: [pair(s) for s in getattr(sources, kind)] for kind in ("policies", "calls", "tests", "documents")},
        "document_texts": {name: pair(text) for name, text in sources.document_texts.items()},
    }


def sources_from_json(data: dict[str, Any]) -> RuleSources:
    def source(pair: list[str] | None) -> SourceFile | None:
        return None if pair is None else SourceFile(pair[0], pair[1])

    return RuleSources(
        catalogue=source(data["catalogue"]),
        regions=source(data["regions"]),
        **{kind: tuple(source(p) for p in data[kind]) for kind in ("policies", "calls", "tests", "documents")},
        document_texts={name: source(pair) for name, pair in data["document_texts"].items()},
    )


# What changed between two rule sets

RULE_FIELDS = ("title", "clause", "quote", "document", "region", "condition", "reward", "department", "materials",
               "deadlines", "valid_from", "valid_until", "note", "horizon")  # fmt: skip
CALL_FIELDS = ("title", "rules", "opens", "closes", "where", "contact")
# What a rule's outcome for a profile depends on: a rule changed in nothing else decides as it did.
DECISIVE_FIELDS = {"region", "condition", "deadlines", "valid_from", "valid_until"}


@dataclass
class RuleSetDiff:
    """Rules (and application calls) added, removed and changed, by id; for a changed one, which fields."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    calls_added: list[str] = field(default_factory=list)
    calls_removed: list[str] = field(default_factory=list)
    calls_changed: dict[str, list[str]] = field(default_factory=dict)


def diff_rulesets(old: RuleSet, new: RuleSet) -> RuleSetDiff:
    diff = RuleSetDiff()
    for kind, before, after, fields in (
        ("rules", {r.id: r for r in old.rules}, {r.id: r for r in new.rules}, RULE_FIELDS),
        ("calls", {c.id: c for c in old.calls}, {c.id: c for c in new.calls}, CALL_FIELDS),
    ):
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = {}
        for key in sorted(set(before) & set(after)):
            if before[key] is after[key]:
                continue  # a rule of a file that did not change: the same object, kept compiled
            differing = [name for name in fields if _canonical(before[key], name) != _canonical(after[key], name)]
            if differing:
                changed[key] = differing
        if kind == "rules":
            diff.added, diff.removed, diff.changed = added, removed, changed
        else:
            diff.calls_added, diff.calls_removed, diff.calls_changed = added, removed, changed
    return diff


def _canonical(item: Any, name: str) -> Any:
    value = getattr(item, name)
    if name == "condition":
        return None if value is None else value.requirement()  # what must hold, whatever objects hold it
    if name == "document":
        return value.id
    return value


def deciding_differently(old: Engine, new: Engine) -> set[str] | None:
    """The ids of the rules whose outcome may differ between two rule sets (None: any may, as the regions or the
    questions changed)."""
    if old.regions is not new.regions or old.ruleset.catalogue is not new.ruleset.catalogue:
        return None
    diff = diff_rulesets(old.ruleset, new.ruleset)
    changed = {rule_id for rule_id, fields in diff.changed.items() if DECISIVE_FIELDS & set(fields)}
    return {*diff.added, *diff.removed, *changed}


# Whose results a new rule set changes


@dataclass(frozen=True)
class Change:
    """A contact whose results differ under the new rules: rules it may now claim (or claim for sure), and rules
    it no longer can."""

    chat: ChatKey
    gained: tuple[str, ...]
    lost: tuple[str, ...]


def changed_contacts(
    old: Engine, new: Engine, contacts: Iterable[Any], today: date, only: set[str] | None = None
) -> list[Change]:
    """The contacts (notices.Contact) whose eligible or possible rules differ between two rule sets, matching
    `only` the rules with these ids (those that may decide differently) when given."""
    changes = []
    for contact in contacts:
        if contact.chat.id < 0 or not contact.answers:
            continue  # a group, or a contact who never answered: no results to change
        before, after = _offered(old, contact.answers, today, only), _offered(new, contact.answers, today, only)
        if before == after:
            continue
        gained = tuple(sorted(r for r, status in after.items() if before.get(r) not in (status, "eligible")))
        lost = tuple(sorted(r for r, status in before.items() if after.get(r) not in (status, "eligible")))
        changes.append(Change(contact.chat, gained, lost))
    return changes


def _offered(engine: Engine, answers: dict[str, Any], today: date, only: set[str] | None) -> dict[str, str]:
    match = engine.matcher.match(answers, today, only)  # stored answers, as the conversation matches them
    offered = {result.rule.id: "possible" for result in match.undetermined}
    offered.update((result.rule.id, "eligible") for result in match.eligible)
    return offered


# Rule files sent to the bot

UPLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.ya?ml")
UPLOAD_FOLDERS = {"rules": POLICY_DIR, "calls": CALLS_DIR, "tests": TESTS_DIR}


def upload_place(file_name: str, data: bytes) -> tuple[str, str] | SourceError:
    """Where an uploaded file goes in the rules folder ("policies/new.yaml") and its text, by what it holds
    (a `rules:`, `calls:` or `tests:` list); or why it cannot be taken."""
    name = Path(file_name or "").name
    if not UPLOAD_NAME.fullmatch(name):
        return SourceError(name[:80] or "?", 0, "a rule file is named like new-policy.yaml (letters, digits, . _ -)")
    source = decoded(name, data)
    if isinstance(source, SourceError):
        return source
    text = source.text
    try:
        parsed = parse_yaml(source)
    except SourceErrors as exc:
        return exc.errors[0]
    kinds = [key for key in UPLOAD_FOLDERS if isinstance(parsed, Mapping) and key in parsed]
    if len(kinds) != 1:
        return SourceError(name, 1, "a rule file has a 'rules:' list, a call file 'calls:', a rule-test file 'tests:'")
    return f"{UPLOAD_FOLDERS[kinds[0]]}/{name}", text


# While a check runs in its thread, the interpreter lets another thread run every 0.5 ms instead of every 5: a
# reply then waits a little for the interpreter at each step (the event loop, the database's thread) instead of
# up to 5 ms each time, which added up to ten times its usual latency. Counted, as checks may overlap.
CHECK_SWITCH_INTERVAL = 0.0005
_checks_running = 0
_usual_interval = 0.0


@contextlib.contextmanager
def _handing_over_often() -> Iterator[None]:
    global _checks_running, _usual_interval
    if _checks_running == 0:
        _usual_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_usual_interval, CHECK_SWITCH_INTERVAL))
    _checks_running += 1
    try:
        yield
    finally:
        _checks_running -= 1
        if _checks_running == 0:
            sys.setswitchinterval(_usual_interval)


# A reload's check runs beside the bot, in a child process of its own: reading the files, compiling them, the rule
# tests and their coverage, and packing the files as the database records them. None of that then holds the
# interpreter the event loop needs, so replies go on at their usual pace. The engine itself cannot cross between
# processes (its region index alone takes longer to unpickle than to build), so this process builds it once the
# check passed, from the rules the child compiled (bot.engine.loader.CompiledFile) and those it kept itself: it
# parses and compiles no file, and the bot's own work is what little is left.


@dataclass(frozen=True)
class _Folder:
    """The files a check in the child reads: the rules and data folders, with the rule files sent to the bot."""

    rules_dir: Path | None
    data_dir: Path | None
    uploads: dict[str, str]


@dataclass(frozen=True)
class _Verdict:
    """What a check in the child found: Checked without the engine; when it passed, the files packed as the
    database records them and the rules it compiled that this process does not keep."""

    passed: bool
    summary: str
    problems: list[SourceError]
    compiled: bool
    version: str
    sources: RuleSources | None = None  # the texts, when the child read them
    packed: bytes | None = None
    compiled_files: tuple[CompiledFile, ...] = ()


def _verdict(request: RuleSources | _Folder, known: dict[str, Any] | None = None) -> _Verdict:
    """Runs in the child. `known`: the stamps of the rules the bot's process keeps compiled (compiled_stamps)."""
    if isinstance(request, _Folder):
        sources = read_sources(request.rules_dir, request.data_dir, request.uploads)
    else:
        sources = request
    checked = check_sources(sources)
    passed = checked.engine is not None
    return _Verdict(
        passed,
        checked.summary,
        checked.problems,
        checked.compiled,
        checked.version,
        sources=sources if isinstance(request, _Folder) else None,
        packed=pack(sources_to_json(sources)) if passed else None,
        compiled_files=tuple(compiled_files(sources, known)) if passed and known is not None else (),
    )


CHECK_NICENESS = 10


class CheckProcess(ChildPool):
    """The child process reloads are checked in, started on first use and kept, so its caches of parsed and
    compiled files make the next check as quick as this process's. A child that cannot start or died (killed,
    out of memory) leaves the check to this process, and a new child is started for the next one."""

    def __init__(self) -> None:
        super().__init__(1, CHECK_NICENESS, "check the rules in")

    def check(self, request: RuleSources | _Folder, known: dict[str, Any] | None = None) -> Future[_Verdict] | None:
        return self.submit(_verdict, request, known)


_check_process = CheckProcess()


def check_beside(sources: RuleSources, process: CheckProcess | None = None) -> Checked:
    """check_sources, with the check made in a child process and the engine built here from what it compiled."""
    process = process or _check_process
    future = process.check(sources, compiled_stamps())
    if future is None:
        return check_sources(sources)
    try:
        verdict = future.result()
    except Exception:  # the child died (BrokenProcessPool), or could not take the texts
        log.exception("the process checking the rules stopped; checking them here")
        process.lost()
        return check_sources(sources)
    return _checked(verdict, sources)


async def check_folder_beside(
    rules_dir: Path | None, data_dir: Path | None, uploads: dict[str, str], process: CheckProcess | None = None
) -> Checked:
    """check_rules, with the files read and checked in a child process while the event loop waits, and the
    engine built here (in a thread) from what the child compiled. Raises OSError when the folder cannot be read."""
    process = process or _check_process
    future = process.check(_Folder(rules_dir, data_dir, uploads), compiled_stamps())
    if future is not None:
        try:
            verdict = await asyncio.wrap_future(future)
        except OSError:
            raise  # the folder itself is gone or unreadable: read here, it would be the same
        except Exception:  # the child died (BrokenProcessPool), or could not send what it found
            log.exception("the process checking the rules stopped; checking them here")
            process.lost()
        else:
            if verdict.sources is not None:
                if not verdict.passed:  # nothing to build: the rules in use stay
                    return _checked(verdict, verdict.sources)
                with _handing_over_often():
                    return await asyncio.to_thread(_checked, verdict, verdict.sources)
    with _handing_over_often():
        return await asyncio.to_thread(check_rules, rules_dir, data_dir, uploads)


def _checked(verdict: _Verdict, sources: RuleSources) -> Checked:
    """Checked of the child's verdict, with the engine built here (without compiling again) when it passed."""
    if not verdict.passed:
        return Checked(None, verdict.summary, verdict.problems, verdict.compiled, verdict.version, sources=sources)
    adopt_compiled_files(verdict.compiled_files)
    sources = same_texts(sources)
    try:
        engine = build_engine(sources, verdict.version)  # the child's version: of these very texts
    except SourceErrors:  # the same texts compiled there: not expected, but never swap blindly
        return check_sources(sources)
    return Checked(engine, verdict.summary, [], version=verdict.version, sources=sources, packed=verdict.packed)


async def rules_at_start(
    store: ChatStore, rules_dir: Path | None, data_dir: Path | None
) -> tuple[Engine, RuleSources | None]:
    """The rule set a process starts with, and its texts when it should be recorded as the one in use.

    The folder with the uploaded files, when it passes every check. Otherwise (an upload that no longer fits the
    folder, rule tests that fail) the rule set in use on the database, rebuilt from its recorded files, so a
    restart never puts unchecked rules in use; without one, the folder's rules if they compile, as before there
    was a database of versions. Raises SourceErrors when nothing compiles."""
    uploads = await store.rule_uploads()
    sources = await asyncio.to_thread(read_sources, rules_dir, data_dir, uploads)
    checked = await asyncio.to_thread(check_sources, sources)
    if checked.engine is not None:
        return checked.engine, sources
    shown = "; ".join(str(problem) for problem in checked.problems[:5])
    log.error("the rules folder with the uploaded files does not pass its checks (%d problems: %s)",
              len(checked.problems), shown)  # fmt: skip
    active = await store.active_rules()
    files = await store.rule_files(active.version) if active is not None else None
    if files is not None:
        try:
            engine = await asyncio.to_thread(build_engine, sources_from_json(files))
            log.warning("starting with rules version %s, the one in use, from its recorded files", active.version)
            return engine, None
        except SourceErrors:
            log.error("the recorded files of rules version %s do not compile either", active.version)
    if not checked.compiled:
        raise SourceErrors(checked.problems)
    log.warning("starting with rules whose rule tests fail; they are not recorded as the ones in use")
    return await asyncio.to_thread(build_engine, sources), None


class Reloader:
    """Reloads the rules into a running bot: checked off the event loop, swapped in only when all is well, and
    recorded in the database so every other process on it follows."""

    def __init__(
        self,
        live: Any,
        store: ChatStore,
        rules_dir: Path | None,
        data_dir: Path | None,
        today: Callable[[], date] = china_today,
    ):
        self.live, self.store, self.rules_dir, self.data_dir, self.today = live, store, rules_dir, data_dir, today
        self._lock = asyncio.Lock()
        self._unfollowed: tuple[str, str] | None = None  # (version in use elsewhere, the version read here)

    async def start(self, sources: RuleSources, actor: str) -> bool:
        """Records the rule set this process started with (`live`'s, read from `sources`) as the one in use, so
        the others switch to it; True if it was not in use before."""
        engine = self.live.base
        # The child that checks reloads reads and compiles these files now, so the first reload is as quick as
        # the next ones; what it finds is not needed.
        _check_process.check(sources, compiled_stamps())
        return await self.store.activate_rules(NewVersion(engine.version, actor, "", sources_to_json(sources)))

    async def reload(self, actor: str) -> Checked:
        """Checks and swaps in the rules folder; the attempt, its version and outcome go to the audit log."""
        async with self._lock:  # two reloads at once would race to swap
            checked = await self._check(await self.store.rule_uploads())
            checked = await self._apply(checked, actor)
        detail = {"version": checked.version, "applied": checked.engine is not None, "problems": len(checked.problems)}
        await self.store.audit(actor, "reload", detail)
        return checked

    async def upload(self, file_name: str, data: bytes, actor: str) -> Checked:
        """An admin's rule file: checked with the rules in use and, if all is well, stored (for every process
        and restart) and put in use; otherwise refused with every problem, and nothing is stored."""
        place = upload_place(file_name, data)
        if isinstance(place, SourceError):
            checked = Checked(None, "the file was not taken", [place], compiled=False)
        else:
            name, text = place
            async with self._lock:
                uploads = {**await self.store.rule_uploads(), name: text}
                checked = await self._check(uploads)
                if checked.engine is not None:
                    await self.store.save_rule_upload(name, text, actor)
                checked = await self._apply(checked, actor, announce_refusal=False)
        detail = {"file": Path(file_name or "").name[:80], "version": checked.version,
                  "applied": checked.engine is not None, "problems": len(checked.problems)}  # fmt: skip
        await self.store.audit(actor, "upload", detail)
        return checked

    async def _check(self, uploads: dict[str, str]) -> Checked:
        try:
            return await check_folder_beside(self.rules_dir, self.data_dir, uploads)
        except OSError as exc:  # the folder itself is gone or unreadable
            problem = SourceError(str(self.rules_dir or "rules"), 0, f"cannot be read: {exc.strerror or exc}")
            return Checked(None, "the rules were not loaded", [problem], compiled=False)

    async def _apply(self, checked: Checked, actor: str, announce_refusal: bool = True) -> Checked:
        old = self.live.base
        previous = old.version
        if checked.engine is None:
            log.warning("rules not reloaded, %d problem(s); the rules in use stay", len(checked.problems))
            first = announce_refusal and bool(checked.version) and await self.store.refuse_rules(checked.version)
            return replace(checked, previous=previous, announce=first)
        await self.live.swap(checked.engine)
        log.info("rules version %s reloaded: %s", checked.version, checked.summary)
        files = sources_to_json(checked.sources)
        new = NewVersion(checked.version, actor, checked.summary, files, checked.packed)
        switched = await self.store.activate_rules(new)
        changes = await self.compare(old, checked.engine) if previous != checked.version else []
        return replace(checked, previous=previous, announce=switched, changes=changes)

    async def follow(self) -> bool:
        """Switches to the rule set another process put in use, once this process reads the same files (a shared
        folder, the uploads in the database); True if it switched."""
        active = await self.store.active_rules()
        if active is None or active.version == self.live.base.version:
            return False
        async with self._lock:
            uploads = await self.store.rule_uploads()
            sources = await asyncio.to_thread(read_sources, self.rules_dir, self.data_dir, uploads)
            version = sources_version(sources)
            if self._unfollowed == (active.version, version):
                return False  # tried already: told once, and not checked again until either changes
            if version != active.version:
                self._unfollowed = (active.version, version)
                log.warning("rules version %s is in use elsewhere, but the files here are version %s; "
                            "this process keeps %s", active.version, version, self.live.base.version)  # fmt: skip
                return False
            with _handing_over_often():
                checked = await asyncio.to_thread(check_beside, sources)
            if checked.engine is None:
                self._unfollowed = (active.version, version)
                log.warning(
                    "rules version %s is in use elsewhere, but does not pass its checks here (%d problems); "
                    "this process keeps %s",
                    active.version,
                    len(checked.problems),
                    self.live.base.version,
                )
                return False
            await self.live.swap(checked.engine)
        log.info("rules version %s, put in use by %s, followed", active.version, active.loaded_by)
        return True

    async def changes(self, old: str, new: str) -> list[Change] | None:
        """The contacts whose results version `new` changed from `old`, both rebuilt from the recorded files
        (None if either was not recorded or cannot be built any more, or the store keeps no contacts)."""
        engines = [await self._engine_of(version) for version in (old, new)]
        if engines[0] is None or engines[1] is None:
            return None
        return await self.compare(engines[0], engines[1])

    async def _engine_of(self, version: str) -> Engine | None:
        if version == self.live.base.version:
            return self.live.base
        files = await self.store.rule_files(version)
        if files is None:
            return None
        try:
            return await asyncio.to_thread(build_engine, sources_from_json(files))
        except SourceErrors:
            return None

    async def compare(self, old: Engine, new: Engine) -> list[Change] | None:
        """The contacts whose results differ between two engines at hand. Only the rules that may decide
        differently are matched, so a reload that changed wording alone costs next to nothing."""
        with _handing_over_often():  # threads that work beside the event loop, as the build does
            only = await asyncio.to_thread(deciding_differently, old, new)
        if only is not None and not only:
            return []
        try:
            contacts = await self.store.contacts()
        except NoticesUnavailable:
            return None
        with _handing_over_often():
            return await asyncio.to_thread(changed_contacts, old, new, contacts, self.today(), only)

    async def run(self, stop: asyncio.Event, every: float = 2.0) -> None:
        """Follows the rule set in use until `stop` is set."""
        while not stop.is_set():
            try:
                await self.follow()
            except Exception:
                log.exception("could not follow the rule set in use; keeping this one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def watch(self, stop: asyncio.Event, on_reload: Callable[[Checked], Awaitable[None]]) -> None:
        """Reloads when a file under the rules folder changes (watchfiles), until `stop` is set."""
        folder = Path(self.rules_dir) if self.rules_dir is not None else shipped_rules_dir()
        if not folder.is_dir():
            return
        try:
            async for _ in awatch(folder, stop_event=stop, debounce=800, recursive=True):
                try:
                    await on_reload(await self.reload("file change"))
                except Exception:
                    log.exception("the rules could not be reloaded after a file change; the rules in use stay")
        except Exception:  # the folder went away, or the system refuses to watch it (too many watches)
            log.exception("no longer watching %s for changes: /reload and SIGHUP still reload the rules", folder)

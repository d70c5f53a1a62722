"""Reads the rules and data folders from disk and hands their texts to the engine: the engine's only way in."""

from __future__ import annotations

import dataclasses
import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.compiling import compile_in_parallel
from bot.engine.engine import Engine
from bot.engine.loader import CALLS_DIR, CATALOGUE_FILE, POLICY_DIR, TESTS_DIR, RuleSources
from bot.engine.regions import RegionIndex, region_index_from_csv
from bot.engine.yamlsource import (
    Mapping,
    SourceError,
    SourceErrors,
    SourceFile,
    forget_key,
    keep_key,
    parse_yaml,
)
from bot.paths import shipped_data_dir, shipped_rules_dir

REGIONS_FILE = "regions.csv"
DOCUMENTS_DIR = "policies"
# Rule files are a few kilobytes and source documents tens of kilobytes; a file far beyond that is a mistake
# (or an attack) and is refused before it is read into memory.
MAX_RULE_FILE_BYTES = 1 << 20
MAX_DOCUMENT_BYTES = 8 << 20


def display_path(path: Path) -> str:
    """The path as an admin would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Reader:
    """Reads files as UTF-8 text, collecting the ones that cannot be read instead of stopping at the first."""

    def __init__(self) -> None:
        self.unreadable: list[SourceError] = []

    def read(self, path: Path, limit: int = MAX_RULE_FILE_BYTES) -> SourceFile | None:
        shown = display_path(path)
        # A problem of the file as a whole is reported at its start (1:1), where an editor opens it.
        try:
            size = path.stat().st_size
            if size > limit:
                message = f"the file is {size:,} bytes; at most {limit:,} are read (split it into smaller files)"
                self.unreadable.append(SourceError(shown, 1, message, 1))
                return None
            # Read no more than the limit even where the size said nothing (a pipe, /dev/zero, a growing file).
            with path.open("rb") as file:
                data = file.read(limit + 1)
        except OSError as exc:
            message = f"cannot read the file: {exc.strerror or exc}; check that it exists and the bot may read it"
            self.unreadable.append(SourceError(shown, 1, message, 1))
            return None
        source = decoded(shown, data, limit)
        if isinstance(source, SourceError):
            self.unreadable.append(source)
            return None
        return source

    def read_all(
        self, folder: Path, pattern: str = "*.yaml", limit: int = MAX_RULE_FILE_BYTES
    ) -> tuple[SourceFile, ...]:
        paths = sorted(folder.glob(pattern)) if folder.is_dir() else []
        return tuple(source for source in (self.read(path, limit) for path in paths) if source is not None)


def decoded(shown: str, data: bytes, limit: int = MAX_RULE_FILE_BYTES) -> SourceFile | SourceError:
    """The text of a file's bytes (read from disk, or sent to the bot), or why it cannot be taken: over `limit`
    bytes, or not UTF-8 (where, and which encoding it may be in: GBK, most often)."""
    if len(data) > limit:
        message = f"the file is over {limit:,} bytes; at most that is read (split it into smaller files)"
        return SourceError(shown, 1, message, 1)
    try:
        return SourceFile(shown, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        start = exc.start
    before = data[:start].decode("utf-8")  # all of it is UTF-8: the decoder stopped only at `start`
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    try:
        data.decode("gb18030")
        saved_as = "; it may be GBK (GB18030) text: reopen it in that encoding and save it as UTF-8"
    except UnicodeDecodeError:
        saved_as = "; save it as UTF-8"
    return SourceError(shown, line, f"the file is not UTF-8 text (byte 0x{data[start]:02x}){saved_as}", column)


def build_engine(sources: RuleSources, version: str | None = None) -> Engine:
    """Compiles the texts with the garbage collector paused (see collection_paused); raises SourceErrors.
    `version`: the texts' sources_version when it was worked out already (by a reload's check)."""
    with collection_paused():
        compile_in_parallel(sources)  # a large folder's files on more than one core; nothing for a small one
        return Engine.build(sources, version)


# The texts of a reload's files come from the process that checked them: new objects every time, though mostly one
# file changed. Each file the same as the last time its path was seen is replaced by that object, whose hashes
# (yamlsource.text_key, str's own) are worked out already, so the caches keyed by a file's text find it at once.
KEPT_FILES = 4096
_seen_files: dict[str, SourceFile] = {}
_seen_lock = threading.Lock()


def same_texts(sources: RuleSources) -> RuleSources:
    """The sources, each file that is the same (path and text) as the last one seen at its path replaced by it."""
    with _seen_lock:
        if len(_seen_files) > KEPT_FILES:
            for source in _seen_files.values():
                forget_key(source.text)
            _seen_files.clear()

        def seen(source: SourceFile) -> SourceFile:
            last = _seen_files.get(source.path)
            if last is not None and last.text == source.text:
                return last
            if last is not None:
                forget_key(last.text)
            _seen_files[source.path] = source
            keep_key(source.text)
            return source

        def seen_all(files: tuple[SourceFile, ...]) -> tuple[SourceFile, ...]:
            return tuple(seen(source) for source in files)

        return dataclasses.replace(
            sources,
            catalogue=None if sources.catalogue is None else seen(sources.catalogue),
            regions=seen(sources.regions),
            policies=seen_all(sources.policies),
            calls=seen_all(sources.calls),
            tests=seen_all(sources.tests),
            documents=seen_all(sources.documents),
            document_texts={name: seen(text) for name, text in sources.document_texts.items()},
        )


def read_sources(
    rules_dir: Path | None = None, data_dir: Path | None = None, uploads: dict[str, str] | None = None
) -> RuleSources:
    """The texts of a rules folder and a data folder (the shipped ones by default), with the rule files admins
    sent to the bot (`uploads`, by place in the rules folder: "policies/new.yaml") in place of the folder's files
    of the same name."""
    rules_dir = Path(rules_dir) if rules_dir is not None else shipped_rules_dir()
    data_dir = Path(data_dir) if data_dir is not None else shipped_data_dir()
    reader = _Reader()
    catalogue_path = rules_dir / CATALOGUE_FILE
    catalogue = reader.read(catalogue_path) if catalogue_path.is_file() else None
    regions = reader.read(data_dir / REGIONS_FILE) or SourceFile(display_path(data_dir / REGIONS_FILE), "")
    documents_dir = data_dir / DOCUMENTS_DIR
    texts = reader.read_all(documents_dir, "*.txt", MAX_DOCUMENT_BYTES)
    uploaded = uploads or {}
    sources = RuleSources(
        catalogue=catalogue,
        regions=regions,
        policies=_with_uploads(reader.read_all(rules_dir / POLICY_DIR), POLICY_DIR, uploaded),
        calls=_with_uploads(reader.read_all(rules_dir / CALLS_DIR), CALLS_DIR, uploaded),
        tests=_with_uploads(reader.read_all(rules_dir / TESTS_DIR), TESTS_DIR, uploaded),
        documents=reader.read_all(documents_dir),
        document_texts={Path(text.path).name: text for text in texts},
    )
    if catalogue is None:
        reader.unreadable.append(SourceError(display_path(catalogue_path), 0, "the question catalogue is missing"))
    return dataclasses.replace(sources, unreadable=tuple(reader.unreadable))


UPLOADED = " (uploaded)"


def _with_uploads(files: tuple[SourceFile, ...], folder: str, uploads: dict[str, str]) -> tuple[SourceFile, ...]:
    """The folder's files with those uploaded to it; an upload replaces the folder's file of the same name."""
    mine = {name.split("/", 1)[1]: text for name, text in uploads.items() if name.startswith(f"{folder}/")}
    kept = [source for source in files if Path(source.path).name not in mine]
    added = [SourceFile(f"{folder}/{name}{UPLOADED}", text) for name, text in sorted(mine.items())]
    return (*kept, *added)


# A profile is a few dozen short facts: a few kilobytes at most.
MAX_PROFILE_BYTES = 256 << 10
# Fact names are short words (big_variety_sales_increase is the longest); a longer key is not a fact, and an
# error quoting it whole would be as long as the key.
MAX_FACT_NAME_CHARS = 64


def read_text_file(path: Path, limit: int) -> SourceFile:
    """One UTF-8 file of at most `limit` bytes; raises SourceErrors naming it when it cannot be read."""
    reader = _Reader()
    source = reader.read(Path(path), limit)
    if source is None:
        raise SourceErrors(reader.unreadable)
    return source


def read_profile(path: Path) -> Any:
    """The facts of a profile file (YAML or JSON); raises SourceErrors for a file that cannot be read or parsed.

    An empty file is refused too: it would silently match as "everything unknown".
    """
    source = read_text_file(path, MAX_PROFILE_BYTES)
    data = parse_yaml(source)
    if data is None:
        empty = SourceError(source.path, 1, "the profile is empty; write facts such as 'region: 吉林省长春市'")
        raise SourceErrors([empty])
    if isinstance(data, Mapping):
        for key in data:
            if isinstance(key, str) and len(key) > MAX_FACT_NAME_CHARS:
                message = f"a fact name of {len(key):,} characters; facts are short names such as 'revenue'"
                raise SourceErrors([SourceError(source.path, data.line_of(key), message)])
    return data


def load_region_index(path: Path | None = None) -> RegionIndex:
    """The region hierarchy from a regions file; the shipped data/regions.csv is read once and kept."""
    if path is None:
        return _shipped_region_index()
    reader = _Reader()
    source = reader.read(Path(path))
    if source is None:
        raise SourceErrors(reader.unreadable)
    return region_index_from_csv(source)


@functools.lru_cache(maxsize=1)
def _shipped_region_index() -> RegionIndex:
    return load_region_index(shipped_data_dir() / REGIONS_FILE)


_paused = 0
_was_enabled = False
_heap_settled = False  # settle_heap froze this process's heap
_pause_lock = threading.Lock()


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a rule set is read and compiled. Reading a large folder creates
    hundreds of thousands of objects that all live on; the collector would walk the growing heap again and again
    (most of the time a check of 10,000 rules took). Nothing is lost: it runs again afterwards. Safe to nest and to
    use from several threads at once: it resumes when the last one ends, if it was running before the first."""
    global _paused, _was_enabled
    with _pause_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                if not _heap_settled:  # (gc.get_freeze_count() walks the frozen heap, with the interpreter held)
                    _promote_young()
                gc.enable()


def _promote_young() -> None:
    """Moves every object the collector tracks to its oldest generation, without looking at them.

    What a pause made is a rule set and what is kept of its files: it lives on. The collector would otherwise look
    at each of those objects as young and again as middle-aged (after a check of 10,000 rules, the first look alone
    took a quarter of a second) before leaving them to its rare full collections, which still free whatever of
    them becomes garbage. Not in a process that froze its heap (settle_heap): unfreezing would put that heap back
    into every full collection."""
    gc.freeze()  # all into the permanent generation...
    gc.unfreeze()  # ...and from there into the oldest one


def load_engine(rules_dir: Path | None = None, data_dir: Path | None = None) -> Engine:
    """Reads and compiles a rules folder; raises SourceErrors (file:line) instead of returning broken rules."""
    return build_engine(read_sources(rules_dir, data_dir))


def settle_heap() -> None:
    """Moves everything loaded so far out of the garbage collector's scans.

    A loaded rule set is tens of thousands of long-lived objects; without this, each full collection walks
    them all and shows up as a latency spike in the middle of a match. Call it once after start-up loading.
    """
    global _heap_settled
    gc.collect()
    gc.freeze()
    _heap_settled = True

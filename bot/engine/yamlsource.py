"""Strict YAML parsing that remembers where every key and item is, for file:line:column errors."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import yaml

T = TypeVar("T")


class Position(NamedTuple):
    """Where something starts in a file: 1-based line and column (column 0: only the line is known). A tuple, as
    a large file has hundreds of thousands of them."""

    line: int
    column: int = 0


# A problem of a file as a whole (its size, how deeply it nests) is reported at its start, where an editor opens it.
START = Position(1, 1)


@dataclass(frozen=True)
class SourceError:
    """One problem in a file an admin edits, reported as 'path:line:column: message'.

    Line and column are 1-based. A column of 0 means only the line is known ('path:line: message'); a line of 0
    that the problem has no place in any file, such as a file or folder that is missing ('path: message').
    """

    path: str
    line: int
    message: str
    column: int = 0

    @classmethod
    def at(cls, path: str, position: Position, message: str) -> SourceError:
        return cls(path, position.line, message, position.column)

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.message}"
        if self.column <= 0:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class SourceErrors(Exception):
    """Raised with every problem found, so an admin can fix them all in one pass."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# Where things are is kept as whole numbers, not as Positions: a large file has hundreds of thousands of places, and
# a number is one object where a Position is two, and not one the garbage collector walks (a tuple is walked until
# the collector has looked at it once; after a large check, that first look took a third of a second). A place is
# its 0-based line and column as one number (line << 32 | column; no text the bot reads has 2**32 lines or
# columns); a key's place and its value's are one number too (key << 64 | value). A Position is made when asked for.
_BITS = 32
_LOW = (1 << _BITS) - 1
_PAIR_LOW = (1 << 2 * _BITS) - 1
_NOWHERE = -1  # a mapping or list made in code, not read from a file: Position(0)


def _place(code: int) -> Position:
    if code < 0:
        return Position(0)
    return _new_tuple(Position, ((code >> _BITS) + 1, (code & _LOW) + 1))


def _code(mark: yaml.Mark) -> int:
    return mark.line << _BITS | mark.column


class Mapping(dict):
    """A YAML mapping that knows where it starts and where each of its keys and values is."""

    __slots__ = ("_start", "_places")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._start = _NOWHERE
        self._places: dict[Any, int] = {}  # key: (its place << 64) | its value's place

    @property
    def position(self) -> Position:
        return _place(self._start)

    @property
    def line(self) -> int:
        return self.position.line

    def at(self, key: Any) -> Position:
        """Where the key is written (where the mapping starts, for a key it lacks)."""
        code = self._places.get(key)
        return self.position if code is None else _place(code >> 2 * _BITS)

    def value_at(self, key: Any) -> Position:
        """Where the key's value is written (where the key is, for a value left empty)."""
        code = self._places.get(key)
        return self.position if code is None else _place(code & _PAIR_LOW)

    def line_of(self, key: Any) -> int:
        return self.at(key).line


class Sequence(list):
    """A YAML sequence that knows where it starts and where each of its items is."""

    __slots__ = ("_start", "_items")

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._start = _NOWHERE
        self._items: list[int] = []  # each item's place

    @property
    def position(self) -> Position:
        return _place(self._start)

    @property
    def line(self) -> int:
        return self.position.line

    @property
    def item_positions(self) -> list[Position]:
        return [_place(code) for code in self._items]

    def at(self, index: int) -> Position:
        return _place(self._items[index]) if index < len(self._items) else self.position

    def line_of(self, index: int) -> int:
        return self.at(index).line


_new_tuple = tuple.__new__


def _position(mark: yaml.Mark) -> Position:
    return _place(_code(mark))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate keys and keeps dates as text (checked later, with their place)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        # A duplicate key leaves the rest of the file readable: it is noted (the first value is kept) and reported
        # with every other problem of the file, not instead of them.
        self.duplicates: list[tuple[Position, str]] = []


# libyaml's parser (when PyYAML was built with it) reads a rule file about six times faster than PyYAML's own, with
# the same marks; the constructors above it are the same Python ones. Whatever it finds wrong is read again by
# PyYAML's parser, whose messages name the place and the fix (the tab, the quote left open, the character).
_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)


if _CSafeLoader is not None:

    class _FastStrictLoader(_CSafeLoader):
        """The strict loader on libyaml's parser: for files that are well formed, which most are."""

        def __init__(self, stream: str):
            super().__init__(stream)
            self.duplicates: list[tuple[Position, str]] = []
            self._tags: dict[str, str] = {}

        # libyaml reports every node's way in and out for path resolvers, which the strict loader has none of.
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
            # libyaml asks for the tag of every node in Python. A quoted text is a text and a list or mapping is one
            # (the loader has no path resolvers); a plain word is resolved once a file, as a file repeats most of
            # them (its keys, its facts).
            if kind is not yaml.ScalarNode:
                return super().resolve(kind, value, implicit)
            if not implicit[0]:
                return _STR_TAG
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag

    _LOADERS: tuple[type, ...] = (_FastStrictLoader, _StrictLoader)
else:  # pragma: no cover - PyYAML without libyaml
    _LOADERS = (_StrictLoader,)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    return _mapping(loader, node, lambda child: loader.construct_object(child, deep=True))


def _construct_sequence(loader: _StrictLoader, node: yaml.SequenceNode) -> Sequence:
    return _sequence(node, lambda child: loader.construct_object(child, deep=True))


def _mapping(loader: Any, node: yaml.MappingNode, build: Callable[[yaml.Node], Any]) -> Mapping:
    mapping = Mapping()
    mapping._start = _code(node.start_mark)
    places = mapping._places
    for key_node, value_node in node.value:
        key = build(key_node)
        if isinstance(key, list | dict):
            raise _Unreadable(None, None, _KEY_NOT_A_WORD, key_node.start_mark)
        if key in mapping:
            _note_duplicate(loader, mapping, key, key_node.start_mark)
            continue
        mapping[key] = build(value_node)
        places[key] = _code(key_node.start_mark) << 2 * _BITS | _code(value_node.start_mark)
    return mapping


_KEY_NOT_A_WORD = "a key must be a word or a text, not a list or mapping"


def _note_duplicate(loader: Any, mapping: Mapping, key: Any, mark: yaml.Mark) -> None:
    """Notes a key met again (its first value is kept), to be reported with the file's other problems."""
    first = mapping.line_of(key)
    message = f"duplicate key '{_cut(str(key))}' (first on line {first}); keep one of them"
    loader.duplicates.append((_position(mark), message))


def _sequence(node: yaml.SequenceNode, build: Callable[[yaml.Node], Any]) -> Sequence:
    seq = Sequence(build(child) for child in node.value)
    seq._start = _code(node.start_mark)
    seq._items = [_code(child.start_mark) for child in node.value]
    return seq


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_MAP_TAG = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_new_dict, _new_list = dict.__new__, list.__new__  # a Mapping or Sequence without its __init__, filled in by _build


class _NotPlain(Exception):
    """A document the direct builder leaves to PyYAML's constructors (merge keys)."""


def _build(loader: Any, node: yaml.Node, merges: bool = False, depth: int = 1) -> Any:
    """The value of a document without aliases, built straight from its nodes: the same values as the constructors
    above give, without their bookkeeping for nodes shared by aliases (a third of a large file's reading). Most of a
    large file's reading is here, so it builds mappings and lists without the general helpers: a text (most keys
    and values) is taken as it is, and each place made at once."""
    kind = type(node)
    if kind is _ScalarNode:
        return node.value if node.tag == _STR_TAG else loader.construct_object(node)
    if depth > MAX_NESTING and (kind is _SequenceNode or kind is _MappingNode):
        raise _Unreadable(None, None, _TOO_DEEP, node.start_mark)
    if kind is _SequenceNode and node.tag == _SEQ_TAG:
        seq = _new_list(Sequence)
        places = []
        for child in node.value:
            if type(child) is _ScalarNode and child.tag == _STR_TAG:
                seq.append(child.value)
            else:
                seq.append(_build(loader, child, merges, depth + 1))
            mark = child.start_mark
            places.append(mark.line << 32 | mark.column)  # _code(mark), written out: it runs for every item
        mark = node.start_mark
        seq._start = mark.line << 32 | mark.column
        seq._items = places
        return seq
    if kind is _MappingNode and node.tag == _MAP_TAG:
        if merges and any(key.tag == _MERGE_TAG for key, _ in node.value):
            raise _NotPlain
        mapping = _new_dict(Mapping)
        mark = node.start_mark
        mapping._start = mark.line << 32 | mark.column
        mapping._places = places = {}
        for key_node, value_node in node.value:
            if type(key_node) is _ScalarNode and key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = _build(loader, key_node, merges, depth + 1)
                if isinstance(key, list | dict):
                    raise _Unreadable(None, None, _KEY_NOT_A_WORD, key_node.start_mark)
            if key in mapping:
                _note_duplicate(loader, mapping, key, key_node.start_mark)
                continue
            if type(value_node) is _ScalarNode and value_node.tag == _STR_TAG:
                mapping[key] = value_node.value
            else:
                mapping[key] = _build(loader, value_node, merges, depth + 1)
            mark, value_mark = key_node.start_mark, value_node.start_mark
            places[key] = (mark.line << 32 | mark.column) << 64 | value_mark.line << 32 | value_mark.column
        return mapping
    return loader.construct_object(node, deep=True)  # a tag of its own: refused by the constructors, with its place


_ScalarEvent = yaml.events.ScalarEvent
_MappingStart, _MappingEnd = yaml.events.MappingStartEvent, yaml.events.MappingEndEvent
_SequenceStart, _SequenceEnd = yaml.events.SequenceStartEvent, yaml.events.SequenceEndEvent
_ITEM = object()  # a list: each value is its next item
_KEY = object()  # a mapping waiting for its next key
_DROPPED = object()  # a mapping waiting for the value of a key it has already: built, and dropped


def _build_from_events(loader: Any) -> Any:
    """The value of a file without anchors or merge keys, built from libyaml's events: _build's values and places,
    without composing the nodes first (a node made in Python, and a call to ask for its tag, for every value). An
    explicit tag, an alias or a second document raises _NotPlain: the file is read again through its nodes, which
    report those as ever; so is any problem (see _read). The levels are a list of frames, not recursion."""
    get = loader.get_event
    get()  # the stream's start
    if isinstance(get(), yaml.events.StreamEndEvent):
        return None  # nothing but comments
    tags, resolve, construct = loader._tags, loader.resolve, loader.construct_object
    frames: list[tuple[Any, Any, Any, int, yaml.Mark]] = []
    # The innermost open list or mapping: its places (a list's or a mapping's), the key waiting for its value (or
    # _KEY, or _DROPPED; _ITEM in a list), that key's place, and where the list or mapping starts.
    into: Any = None
    places: Any = None
    key: Any = None
    key_place = 0
    start: Any = None
    while True:
        event = get()
        kind = type(event)
        if kind is _ScalarEvent:
            if event.tag is not None or event.anchor is not None:
                raise _NotPlain
            value = event.value
            if event.implicit[0]:
                tag = tags.get(value)
                if tag is None:
                    tag = resolve(_ScalarNode, value, event.implicit)
                if tag != _STR_TAG:
                    value = construct(_ScalarNode(tag, value, event.start_mark, event.end_mark, event.style))
            mark = event.start_mark
        elif kind is _MappingStart or kind is _SequenceStart:
            if event.tag is not None or event.anchor is not None:
                raise _NotPlain
            if len(frames) >= MAX_NESTING:
                raise _Unreadable(None, None, _TOO_DEEP, event.start_mark)
            frames.append((into, places, key, key_place, start))
            start = event.start_mark
            if kind is _MappingStart:
                into = _new_dict(Mapping)
                into._places = places = {}
                key = _KEY
            else:
                into = _new_list(Sequence)
                into._items = places = []
                key = _ITEM
            into._start = start.line << 32 | start.column
            continue
        elif kind is _MappingEnd or kind is _SequenceEnd:
            value, mark = into, start
            into, places, key, key_place, start = frames.pop()
            if into is None:
                break  # the document's own value
            if key is _KEY:
                raise _Unreadable(None, None, _KEY_NOT_A_WORD, mark)
        elif kind is yaml.events.DocumentEndEvent:
            break  # a document that is a single value, or empty
        else:  # an alias
            raise _NotPlain
        if into is None:
            continue  # the document's value, a scalar: the document ends next
        place = mark.line << 32 | mark.column
        if key is _ITEM:
            into.append(value)
            places.append(place)
        elif key is _KEY:
            if value in into:
                _note_duplicate(loader, into, value, mark)
                key = _DROPPED
            else:
                key, key_place = value, place
        else:
            if key is not _DROPPED:
                into[key] = value
                places[key] = key_place << 64 | place
            key = _KEY
    if kind is not yaml.events.DocumentEndEvent:
        get()  # the document's end
    if not isinstance(get(), yaml.events.StreamEndEvent):
        raise _NotPlain  # another document: reported by the composer
    return value


def _construct_timestamp_as_text(loader: _StrictLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


# Longer than any number a rule or profile holds (a figure in yuan has at most 16 digits). Python refuses to read
# an integer of more than 4,300 digits, and a hexadecimal one of any length would become a number too long to
# print; either is refused here, with its place.
MAX_NUMBER_CHARS = 100


class _Unreadable(yaml.MarkedYAMLError):
    pass


def _checked_number(construct: Any) -> Any:
    def construct_number(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_NUMBER_CHARS:
            length = f"{len(node.value):,}"
            problem = f"a number of {length} characters is longer than any value here; write a figure such as 1.5亿"
            raise _Unreadable(None, None, problem, node.start_mark)
        try:
            return construct(loader, node)
        except ValueError:
            raise _Unreadable(None, None, "this number cannot be read; write it in digits", node.start_mark) from None

    return construct_number


for _loader in _LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)
    _loader.add_constructor("tag:yaml.org,2002:int", _checked_number(yaml.SafeLoader.construct_yaml_int))
    _loader.add_constructor("tag:yaml.org,2002:float", _checked_number(yaml.SafeLoader.construct_yaml_float))


@dataclass(frozen=True)
class SourceFile:
    """The text of one file an admin edits, with the path errors name it by."""

    path: str
    text: str


# More values than any rule or profile file holds once its aliases are expanded: a file of a few hundred bytes
# whose aliases nest ("a billion laughs") would otherwise expand to gigabytes when read.
MAX_EXPANDED_VALUES = 200_000
# Far more levels of lists and mappings than any rule or profile needs (a rule's conditions nest a few deep). Deeper
# ones would be refused by Python's recursion limit somewhere further on (matching, passing the compiled rules to
# another process), so they are refused here, with their place.
MAX_NESTING = 100
_TOO_DEEP = f"the file nests more than {MAX_NESTING} levels of lists and mappings here; use fewer levels"


def _measure(node: yaml.Node, measured: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """How many values the node stands for with every alias expanded (shared nodes are counted once each use), and
    how many levels of lists and mappings it holds, its aliases followed: one walk for both limits."""
    known = measured.get(id(node))
    if known is not None:
        return known
    if isinstance(node, yaml.ScalarNode):
        return 1, 0
    measured[id(node)] = (1, 1)  # a node that refers to itself is refused by the loader; this only ends the walk
    parts = [_measure(child, measured) for child in _children(node)]
    size = 1 + sum(part[0] for part in parts)
    height = 1 + max((part[1] for part in parts), default=0)
    measured[id(node)] = (size, height)
    return size, height


def _too_deep(node: yaml.Node, measured: dict[int, tuple[int, int]]) -> yaml.Node:
    """The list or mapping below which the levels pass MAX_NESTING."""
    depth = 1
    while depth <= MAX_NESTING:
        node = max(_children(node), key=lambda child: _measure(child, measured)[1])
        depth += 1
    return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _first_too_large(node: yaml.Node, measured: dict[int, tuple[int, int]]) -> yaml.Node:
    """The innermost value, first in the file, that alone expands beyond the limit: where the aliases pile up."""
    while True:
        larger = next((c for c in _children(node) if _measure(c, measured)[0] > MAX_EXPANDED_VALUES), None)
        if larger is None:
            return node
        node = larger


# PyYAML's messages quote what they stumble on (an alias name, a tag, a key), which may be any length.
MAX_MESSAGE_CHARS = 200


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "…"


# What PyYAML's messages mean for someone editing a rule file, and what to do about them.
_SYNTAX_HINTS = (
    ("mapping values are not allowed here", "put a value that contains ': ' in quotes, or give the line above its ':'"),
    ("could not find expected ':'", "write ':' after the key"),
    ("expected <block end>, but found ']'", "remove the ']' that closes no list"),
    ("expected <block end>, but found '}'", "remove the '}' that closes no mapping"),
    ("expected <block end>", "line this up with the lines above it (indent with spaces, two per level)"),
    ("found character", "put a value that starts with this character in quotes"),
    ("expected ',' or ']'", "close the list with ']' (and separate its items with ', ')"),
    ("expected ',' or '}'", "close the mapping with '}' (and separate its entries with ', ')"),
    ("found undefined alias", "define the anchor (&name) before its first use (*name)"),
    ("while scanning a quoted scalar", "close the quote"),
    ("found duplicate anchor", "give each anchor (&name) its own name"),
    ("could not determine a constructor for the tag", "remove the tag (the word starting with '!')"),
)
# For these, PyYAML's context mark is where the mistake is (the key without ':', the quote left open); its problem
# mark only shows where it noticed.
_CONTEXT_FIRST = ("while scanning a simple key", "while scanning a quoted scalar")


def _syntax_error(path: str, text: str, exc: yaml.MarkedYAMLError) -> SourceError:
    """A YAML syntax error as an admin can act on it: where the mistake is and what to write instead."""
    if isinstance(exc, _Unreadable):
        return SourceError.at(path, _position(exc.problem_mark), _cut(exc.problem or ""))
    mark = exc.problem_mark or exc.context_mark
    if exc.context in _CONTEXT_FIRST and exc.context_mark is not None:
        mark = exc.context_mark
    position = _position(mark) if mark is not None else START
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        return SourceError.at(path, position, _tab_problem(text, mark.index))
    said = (problem, exc.context or "")
    hint = next((hint for start, hint in _SYNTAX_HINTS if any(words.startswith(start) for words in said)), "")
    return SourceError.at(path, position, _cut(f"{problem}; {hint}" if hint else f"invalid YAML: {problem}"))


def _index_position(text: str, index: int) -> Position:
    line_start = text.rfind("\n", 0, index) + 1
    return Position(text.count("\n", 0, index) + 1, index - line_start + 1)


def _tab_problem(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    if not text[line_start:index].strip(" \t"):
        return "a tab in the indentation; indent with spaces"
    return "a tab between words; YAML separates with spaces, so write a space here"


class Kept(Generic[T]):
    """The outcome of costly work on each of the latest `places` texts (a file's path, say): the value, or the
    SourceErrors it raised (raised again, as a copy, each time), kept for the stamp it was worked out for (a hash
    of the text). One outcome a place, so a folder read again and again hits for every file that did not change,
    however many files it has. Safe from several threads: at worst two do the same work once."""

    def __init__(self, places: int):
        self.places = places
        self._outcomes: OrderedDict[Any, tuple[Any, T | SourceErrors]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, place: Any, stamp: Any, work: Callable[[], T]) -> T:
        with self._lock:
            kept = self._outcomes.get(place)
            known = kept[1] if kept is not None and kept[0] == stamp else None
            if kept is not None:
                self._outcomes.move_to_end(place)
        if known is None:
            try:
                known = work()
            except SourceErrors as exc:
                known = exc
            self.put(place, stamp, known)
        if isinstance(known, SourceErrors):
            raise SourceErrors(list(known.errors))
        return known

    def kept(self, place: Any, stamp: Any) -> T | None:
        """The value kept for the place if it was worked out for this stamp (None otherwise, or if it raised)."""
        with self._lock:
            kept = self._outcomes.get(place)
        if kept is None or kept[0] != stamp or isinstance(kept[1], SourceErrors):
            return None
        return kept[1]

    def put(self, place: Any, stamp: Any, value: T | SourceErrors) -> None:
        """Keeps an outcome for the stamp, as `get` does with what it worked out (or one worked out elsewhere, in
        another process, say), pushing out the least recently used place beyond `places`."""
        with self._lock:
            self._outcomes[place] = (stamp, value)
            self._outcomes.move_to_end(place)
            while len(self._outcomes) > self.places:
                self._outcomes.popitem(last=False)

    def stamps(self) -> dict[Any, Any]:
        """The stamp of each place's outcome: what `get` would not work out again."""
        with self._lock:
            return {place: stamp for place, (stamp, _) in self._outcomes.items()}

    def forget(self, place: Any) -> None:
        with self._lock:
            self._outcomes.pop(place, None)

    def clear(self) -> None:
        with self._lock:
            self._outcomes.clear()


def text_key(text: str) -> bytes:
    """A short hash of a text, to know it again."""
    kept = _kept_keys.get(id(text))
    if kept is not None and kept[0] is text:
        return kept[1]
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


# Every check hashes every file of the folder (the stamps of what is kept of each file); a reload's files that did
# not change are the same objects from one reload to the next (bot.loading.same_texts), whose keys are kept here by
# the object (held with its key, so its id() stays its own) for as long as it is the latest text of its file.
_kept_keys: dict[int, tuple[str, bytes]] = {}
_kept_keys_lock = threading.Lock()


def keep_key(text: str) -> None:
    """Keeps the key of the text, the latest of its file, until forget_key."""
    key = text_key(text)
    with _kept_keys_lock:
        _kept_keys[id(text)] = (text, key)


def forget_key(text: str) -> None:
    with _kept_keys_lock:
        kept = _kept_keys.get(id(text))
        if kept is not None and kept[0] is text:
            del _kept_keys[id(text)]


# A reload reads every file again, though mostly one of them changed: the value of each file's latest text is kept
# (the loader never changes it), so only a changed file is parsed again.
_kept_reads: Kept[tuple[Any, list[SourceError]]] = Kept(4096)


def read_yaml(source: SourceFile) -> tuple[Any, list[SourceError]]:
    """Parses one YAML text strictly: its value, with the problems that left the rest of it readable (duplicate
    keys, whose first value is kept). A problem that stops the reading raises SourceErrors naming its place."""
    data, problems = _kept_reads.get(source.path, text_key(source.text), lambda: _read_uncached(source))
    return data, list(problems)


def forget_read(path: str) -> None:
    """Lets go of the value kept of the file at `path` (read_yaml keeps the latest of each file)."""
    _kept_reads.forget(path)


def _read_uncached(source: SourceFile) -> tuple[Any, list[SourceError]]:
    # libyaml takes some tabs PyYAML refuses: a text with one is read by PyYAML alone, so both read the same files.
    text = source.text
    if len(_LOADERS) > 1 and "\t" not in text and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            data, problems = _read(_LOADERS[0], source)
            if not problems:
                return data, problems
        except SourceErrors:
            pass  # read again below, for PyYAML's account of what is wrong and where
    return _read(_StrictLoader, source)


def _document(loader: Any, node: yaml.Node, plain: bool, merges: bool) -> Any:
    if plain:
        try:
            return _build(loader, node, merges)
        except _NotPlain:
            loader.duplicates.clear()
    return loader.construct_document(node)


def _duplicates(loader: Any, path: str) -> list[SourceError]:
    """The keys met twice while the file was read, as problems of the file."""
    return [SourceError.at(path, where, message) for where, message in loader.duplicates]


def _read(loader_class: type, source: SourceFile) -> tuple[Any, list[SourceError]]:
    loader: Any = None
    try:
        loader = loader_class(source.text)  # PyYAML's refuses characters YAML does not allow, before any parsing
        plain, merges = "&" not in source.text, "<<" in source.text
        if plain and not merges and loader_class is not _StrictLoader:  # libyaml's, for most files
            try:
                data = _build_from_events(loader)
                return data, _duplicates(loader, source.path)
            except (_NotPlain, yaml.YAMLError, ValueError):
                # Read again through the nodes, which say what is wrong as ever: a mistake further on in the file
                # (found when the whole file is parsed first) before the one the events met first.
                loader.dispose()
                loader = loader_class(source.text)
        node = loader.get_single_node()
        if node is None:
            return None, []
        # Without an anchor (&name) there is no alias to expand: the file stands for no more than it holds, and its
        # depth is checked while it is built. A file with anchors or merges may be built by PyYAML's constructors,
        # so both are measured first.
        measured: dict[int, tuple[int, int]] = {}
        size, height = _measure(node, measured) if not plain or merges else (0, 0)
        if not plain and size > MAX_EXPANDED_VALUES:
            where = _position(_first_too_large(node, measured).start_mark)
            message = (
                f"the aliases here expand to more than {MAX_EXPANDED_VALUES:,} values; "
                "write the values out instead of nesting aliases (*name)"
            )
            raise SourceErrors([SourceError.at(source.path, where, message)])
        if height > MAX_NESTING:
            raise _Unreadable(None, None, _TOO_DEEP, _too_deep(node, measured).start_mark)
        data = _document(loader, node, plain=plain, merges=merges)
        return data, _duplicates(loader, source.path)
    except yaml.MarkedYAMLError as exc:
        raise SourceErrors([_syntax_error(source.path, source.text, exc)]) from None
    except yaml.reader.ReaderError as exc:
        where = _index_position(source.text, exc.position)
        message = f"the character U+{exc.character:04X} cannot be in a YAML file; delete it"
        raise SourceErrors([SourceError.at(source.path, where, message)]) from None
    except yaml.YAMLError as exc:
        raise SourceErrors([SourceError.at(source.path, START, _cut(f"invalid YAML: {exc}"))]) from None
    except RecursionError:
        message = "the file nests too deeply to read; use fewer levels of lists and mappings"
        raise SourceErrors([SourceError.at(source.path, START, message)]) from None
    except ValueError as exc:
        # A value PyYAML's constructors cannot convert; its message may quote the whole value.
        raise SourceErrors([SourceError.at(source.path, START, _cut(f"a value cannot be read: {exc}"))]) from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_yaml(source: SourceFile) -> Any:
    """Parses one YAML text strictly; any problem becomes a SourceErrors naming file, line and column."""
    data, problems = read_yaml(source)
    if problems:
        raise SourceErrors(problems)
    return data

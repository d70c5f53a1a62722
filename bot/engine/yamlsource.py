"""Strict YAML parsing that remembers the line of every key and item, for file:line errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class SourceError:
    """One problem in a file an admin edits, reported as 'path:line: message'."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class SourceErrors(Exception):
    """Raised with every problem found, so an admin can fix them all in one pass."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Mapping(dict):
    """A YAML mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class Sequence(list):
    """A YAML sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and keeps dates as text (checked later, with a line)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    mapping = Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise _DuplicateKey(
                None,
                None,
                f"duplicate key '{key}' (first on line {mapping.key_lines[key]})",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _StrictLoader, node: yaml.SequenceNode) -> Sequence:
    seq = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    seq.line = node.start_mark.line + 1
    seq.item_lines = [child.start_mark.line + 1 for child in node.value]
    return seq


def _construct_timestamp_as_text(loader: _StrictLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


# Longer than any number a rule or profile holds (a figure in yuan has at most 16 digits). Python refuses to read
# an integer of more than 4,300 digits, and a hexadecimal one of any length would become a number too long to
# print; either is refused here, with its line.
MAX_NUMBER_CHARS = 100


class _TooLong(yaml.MarkedYAMLError):
    pass


def _checked_number(construct: Any) -> Any:
    def construct_number(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise _TooLong(
                None, None, f"a number of {len(node.value):,} characters is longer than any value here", node.start_mark
            )
        return construct(loader, node)

    return construct_number


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _checked_number(yaml.SafeLoader.construct_yaml_int))
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _checked_number(yaml.SafeLoader.construct_yaml_float))


@dataclass(frozen=True)
class SourceFile:
    """The text of one file an admin edits, with the path errors name it by."""

    path: str
    text: str


# More values than any rule or profile file holds once its aliases are expanded: a file of a few hundred bytes
# whose aliases nest ("a billion laughs") would otherwise expand to gigabytes when read.
MAX_EXPANDED_VALUES = 200_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values the node stands for with every alias expanded (shared nodes are counted once each use)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a node that refers to itself is refused by the loader; this only ends the walk
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


# PyYAML's messages quote what they stumble on (an alias name, a tag, a key), which may be any length.
MAX_MESSAGE_CHARS = 200


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "…"


def parse_yaml(source: SourceFile) -> Any:
    """Parses one YAML text strictly; any syntax problem becomes a SourceErrors naming file and line."""
    loader = _StrictLoader(source.text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_VALUES:
            raise SourceErrors(
                [SourceError(source.path, 1, f"the file expands to more than {MAX_EXPANDED_VALUES:,} values (aliases)")]
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceErrors([SourceError(source.path, line, _cut(problem))]) from None
    except yaml.YAMLError as exc:
        raise SourceErrors([SourceError(source.path, 0, _cut(f"invalid YAML: {exc}"))]) from None
    except RecursionError:
        raise SourceErrors([SourceError(source.path, 0, "the file nests too deeply to read")]) from None
    except ValueError as exc:
        # A value PyYAML's constructors cannot convert; its message may quote the whole value.
        raise SourceErrors([SourceError(source.path, 0, _cut(f"a value cannot be read: {exc}"))]) from None
    finally:
        loader.dispose()

"""Strict YAML reading: where every key, value and item is, and syntax problems an admin can act on."""

from __future__ import annotations

import pytest

from bot.engine.yamlsource import (
    _LOADERS,
    MAX_NESTING,
    Mapping,
    Position,
    Sequence,
    SourceError,
    SourceErrors,
    SourceFile,
    _read,
    _StrictLoader,
    parse_yaml,
    read_yaml,
)
from bot.paths import shipped_data_dir, shipped_rules_dir


def problem(text: str) -> str:
    with pytest.raises(SourceErrors) as caught:
        parse_yaml(SourceFile("f.yaml", text))
    [error] = caught.value.errors
    return str(error)


def test_every_key_value_and_item_knows_its_line_and_column() -> None:
    data = parse_yaml(SourceFile("f.yaml", "rules:\n  - id: a\n    when: {fact: revenue, at_least: 10亿}\n"))
    rule = data["rules"][0]
    assert data["rules"].at(0) == Position(2, 5) == rule.position == rule.at("id")
    assert rule.value_at("id") == Position(2, 9) and rule.line_of("when") == 3
    assert rule["when"].at("at_least") == Position(3, 27) and rule["when"].value_at("at_least") == Position(3, 37)
    assert rule.at("missing") == rule.position and rule.value_at("missing") == rule.position


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n\tb: 1\n", "f.yaml:2:1: a tab in the indentation; indent with spaces"),
        ("a:\n  b:\n    - 1\n  \t- 2\n", "f.yaml:4:3: a tab in the indentation; indent with spaces"),
        ("a: 1\nb:\t2\n", "f.yaml:2:3: a tab between words; YAML separates with spaces, so write a space here"),
    ],
    ids=["at the start", "after spaces", "between words"],
)
def test_a_tab_is_named_as_a_tab_where_it_is(text: str, expected: str) -> None:
    assert problem(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 'open\nb: 1\n", "f.yaml:1:4: found unexpected end of stream; close the quote"),
        ("a:\n  b: 1\n  c\n  d: 2\n", "f.yaml:3:3: could not find expected ':'; write ':' after the key"),
        (
            "a: *nowhere\n",
            "f.yaml:1:4: found undefined alias 'nowhere'; define the anchor (&name) before its first use",
        ),
        ("a: 1\nb: \x07\n", "f.yaml:2:4: the character U+0007 cannot be in a YAML file; delete it"),
        ("? [a, b]\n: 1\n", "f.yaml:1:3: a key must be a word or a text, not a list or mapping"),
    ],
    ids=["unclosed quote", "key without colon", "undefined alias", "control character", "list as key"],
)
def test_a_syntax_problem_is_reported_where_the_mistake_is_with_what_to_do(text: str, expected: str) -> None:
    assert problem(text).startswith(expected)


def test_duplicate_keys_are_reported_with_the_rest_of_the_file_and_the_first_value_is_kept() -> None:
    data, problems = read_yaml(SourceFile("f.yaml", "a: 1\nb: {c: 1, c: 2}\na: 3\n"))
    assert data == {"a": 1, "b": {"c": 1}}
    assert [str(p) for p in problems] == [
        "f.yaml:2:11: duplicate key 'c' (first on line 2); keep one of them",
        "f.yaml:3:1: duplicate key 'a' (first on line 1); keep one of them",
    ]
    with pytest.raises(SourceErrors):
        parse_yaml(SourceFile("f.yaml", "a: 1\na: 3\n"))


def test_an_alias_bomb_is_reported_at_the_anchor_where_the_values_pile_up() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    # 9**6 values under f: the first that alone is over the limit.
    assert problem("\n".join(lines) + "\n").startswith("f.yaml:6:4: the aliases here expand to more than")


def nested(levels: int) -> str:
    """A mapping `a:` inside another, `levels` deep, the innermost holding a word."""
    return "".join(" " * depth + "a:\n" for depth in range(levels - 1)) + " " * (levels - 1) + "a: b\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), f"1:{MAX_NESTING + 1}"),
        (nested(MAX_NESTING + 1), f"{MAX_NESTING + 1}:{MAX_NESTING + 1}"),
        ("x: &x 1\ny: " + "[" * MAX_NESTING + "]" * MAX_NESTING, f"2:{MAX_NESTING + 3}"),  # built by PyYAML's
        ("<<: {q: 1}\ny: " + "[" * MAX_NESTING + "]" * MAX_NESTING, f"2:{MAX_NESTING + 3}"),  # constructors
        ("[" * 100_000 + "]" * 100_000, "1:1"),  # beyond what even the parser reads: the file as a whole
    ],
)
def test_lists_and_mappings_nested_deeper_than_any_rule_needs_are_refused_where_they_pass_the_limit(
    text: str, where: str
) -> None:
    assert problem(text).startswith(f"f.yaml:{where}: the file nests ")


def test_lists_and_mappings_nested_as_deep_as_the_limit_are_read() -> None:
    flow = parse_yaml(SourceFile("f.yaml", "[" * MAX_NESTING + "x" + "]" * MAX_NESTING))
    for _ in range(MAX_NESTING - 1):
        flow = flow[0]
    assert flow == ["x"]
    block = parse_yaml(SourceFile("f.yaml", nested(MAX_NESTING)))
    for _ in range(MAX_NESTING - 1):
        block = block["a"]
    assert block == {"a": "b"} and block.at("a") == Position(MAX_NESTING, MAX_NESTING)


def test_a_problem_prints_as_path_line_column_or_as_much_of_it_as_is_known() -> None:
    assert str(SourceError("f.yaml", 3, "m", 7)) == "f.yaml:3:7: m"
    assert str(SourceError("f.yaml", 3, "m")) == "f.yaml:3: m"
    assert str(SourceError("rules", 0, "cannot be read")) == "rules: cannot be read"
    assert len({SourceError("f.yaml", 3, "m", 7), SourceError.at("f.yaml", Position(3, 7), "m")}) == 1


def _places(value: object) -> list[object]:
    """Every key's and item's place in a parsed tree, in order."""
    if isinstance(value, Mapping):
        return [value.position, *((value.at(k), value.value_at(k), *_places(v)) for k, v in value.items())]
    if isinstance(value, Sequence):
        return [value.position, *((value.at(i), *_places(v)) for i, v in enumerate(value))]
    return []


def test_libyaml_and_pyyaml_read_every_shipped_file_alike() -> None:
    """Well-formed files are read by libyaml's parser, the rest by PyYAML's: both must give the same values in
    the same places, or a file would mean something else depending on whether it has a mistake elsewhere."""
    if len(_LOADERS) < 2:
        pytest.skip("PyYAML was built without libyaml")
    files = [*shipped_rules_dir().rglob("*.yaml"), *shipped_data_dir().rglob("*.yaml")]
    assert len(files) > 10
    for path in files:
        source = SourceFile(str(path), path.read_text(encoding="utf-8"))
        fast, slow = _read(_LOADERS[0], source), _read(_StrictLoader, source)
        assert fast == slow and _places(fast[0]) == _places(slow[0]), path


def test_a_file_read_again_unchanged_is_not_parsed_again_and_a_changed_one_is() -> None:
    source = SourceFile("cached.yaml", "a: [1, 2]\n")
    first = read_yaml(source)[0]
    assert read_yaml(SourceFile("cached.yaml", "a: [1, 2]\n"))[0] is first, "the same text: the same value"
    assert read_yaml(SourceFile("cached.yaml", "a: [1, 3]\n"))[0] == {"a": [1, 3]}
    broken = SourceFile("cached.yaml", "a: [1, 2\n")
    for _ in range(2):  # a problem is reported every time, not only the first
        with pytest.raises(SourceErrors):
            read_yaml(broken)

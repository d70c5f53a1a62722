"""Strict YAML reading: where every key, value and item is, and syntax problems an admin can act on."""

from __future__ import annotations

import pytest

from bot.engine.yamlsource import Position, SourceError, SourceErrors, SourceFile, parse_yaml, read_yaml


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


def test_a_problem_prints_as_path_line_column_or_as_much_of_it_as_is_known() -> None:
    assert str(SourceError("f.yaml", 3, "m", 7)) == "f.yaml:3:7: m"
    assert str(SourceError("f.yaml", 3, "m")) == "f.yaml:3: m"
    assert str(SourceError("rules", 0, "cannot be read")) == "rules: cannot be read"
    assert len({SourceError("f.yaml", 3, "m", 7), SourceError.at("f.yaml", Position(3, 7), "m")}) == 1

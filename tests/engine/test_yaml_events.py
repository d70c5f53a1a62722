"""Files without anchors are built from libyaml's events instead of its nodes: the same values, places, duplicate
keys and errors, for the edge cases of YAML and for thousands of random documents (valid, mistyped and cut)."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from bot.engine import yamlsource
from bot.engine.yamlsource import _LOADERS, MAX_NESTING, Mapping, Sequence, SourceErrors, SourceFile, _read

pytestmark = pytest.mark.skipif(len(_LOADERS) < 2, reason="PyYAML without libyaml reads every file through nodes")

EDGE_CASES = [
    "",
    "# only a comment\n",
    "---\n",
    "--- \n...\n",
    "a\n",
    "'quoted'\n",
    "12\n",
    "null\n",
    "[]\n",
    "{}\n",
    "a: 1\nb: [x, 'y', 2.5, true, null, ~, 2024-06-01]\n",
    "a:\nb:\n  c:\n  - \n  -\n",
    "a: 1\na: 2\nb: {c: 1, c: 2}\n",
    "a: {x: 1}\na: [2, 3]\nb: 4\n",
    "? [a, b]\n: 1\n",
    "{[a]: 1}\n",
    "? {a: 1}\n: 2\n",
    "1: one\n2.5: two\ntrue: three\nnull: four\n",
    "a: 1\n---\nb: 2\n",
    "a: *x\n",
    "a: !!str 12\n",
    "a: !custom x\n",
    "a: ! x\n",
    "%YAML 1.1\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: .inf\ne: -.nan\n",
    "a: " + "9" * 101 + "\n",
    "a: [1, [2, [3, {b: [4]}]]]\n",
    "- a\n- - b\n  - c\n- d: e\n  f: g\n",
    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    "a: \"double \\u4e2d\"\nb: '单引号'\nc: 中文: 不行\n",
    "a: [1, 2\n",
    "a: {b: 1\n",
    "a: 'open\n",
    "a: b: c\n",
    "- a\nb: c\n",
    "a: 1\n  b: 2\n",
    "[" * MAX_NESTING + "x" + "]" * MAX_NESTING + "\n",
    "[" * (MAX_NESTING + 1) + "x" + "]" * (MAX_NESTING + 1) + "\n",
    "".join("  " * level + "a:\n" for level in range(MAX_NESTING)) + "  " * MAX_NESTING + "b\n",
    "".join("  " * level + "a:\n" for level in range(MAX_NESTING + 1)) + "  " * (MAX_NESTING + 1) + "b\n",
    "a: 1\nb: [1, {c: [{d: 1, d: 2}]}]\n",
    "k: v\n" * 3 + "list:\n" + "  - item\n" * 3,
]


def places(value: Any) -> Any:
    """The value with the place of every list, mapping, key, value and item."""
    if isinstance(value, Mapping):
        return ("map", value.position, [(k, value.at(k), value.value_at(k), places(v)) for k, v in value.items()])
    if isinstance(value, Sequence):
        return ("seq", value.position, [(value.at(i), places(v)) for i, v in enumerate(value)])
    return (type(value).__name__, value)


def outcome(text: str) -> Any:
    try:
        data, problems = _read(_LOADERS[0], SourceFile("f.yaml", text))
    except SourceErrors as exc:
        return "refused", [str(e) for e in exc.errors]
    return places(data), [str(p) for p in problems]


def through_nodes(monkeypatch: pytest.MonkeyPatch, text: str) -> Any:
    def refuse(loader: Any) -> Any:
        raise yamlsource._NotPlain

    with monkeypatch.context() as patched:
        patched.setattr(yamlsource, "_build_from_events", refuse)
        return outcome(text)


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_an_edge_case_reads_as_through_the_nodes(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    assert outcome(text) == through_nodes(monkeypatch, text)


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return rng.choice(["text", "中文 文本", 12, 2.5, True, None, "2024-06-01", "5000万", "", "a: b", "- x", "yes"])
    if roll < 0.75:
        keys = rng.sample(["id", "fact", "at_least", "all", "any", "键", "1", "true", "null"], rng.randint(0, 5))
        return {key: random_value(rng, depth + 1) for key in keys}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def mistyped(rng: random.Random, text: str) -> str:
    """The text with a slip of the keyboard: a line doubled (duplicate keys), a character cut, added or changed."""
    if not text:
        return text
    where = rng.randrange(len(text))
    lines = text.splitlines(keepends=True)
    slip = rng.choice(["double", "cut", "add", "indent"])
    if slip == "double":
        line = rng.randrange(len(lines))
        return "".join(lines[: line + 1] + lines[line:])
    if slip == "cut":
        return text[:where] + text[where + 1 :]
    if slip == "add":
        return text[:where] + rng.choice(":-[]{}'\"#?,!*&| \n") + text[where:]
    line = rng.randrange(len(lines))
    return "".join(lines[:line] + ["  " + lines[line]] + lines[line + 1 :])


def test_random_documents_read_as_through_the_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261203)
    differ = []
    for number in range(3000):
        value = random_value(rng, 0)
        text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=rng.choice([False, True, None]))
        if number % 2:
            text = mistyped(rng, text)
        if outcome(text) != through_nodes(monkeypatch, text):
            differ.append(text)
    assert not differ, differ[:3]

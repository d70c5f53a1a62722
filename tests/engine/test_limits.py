"""Oversized or hostile input (huge numbers, alias bombs, huge files and values) is refused quickly and briefly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot import loading
from bot.engine.parsing import MAX_NUMBER_CHARS, Invalid, parse_fraction, parse_money, parse_number
from bot.engine.yamlsource import MAX_EXPANDED_VALUES, SourceErrors, SourceFile, parse_yaml
from bot.loading import MAX_PROFILE_BYTES, read_profile

SHORT = 300  # characters: an error line a person reads at a glance


def yaml_error(text: str) -> str:
    with pytest.raises(SourceErrors) as caught:
        parse_yaml(SourceFile("profile.yaml", text))
    assert len(caught.value.errors) == 1
    return str(caught.value.errors[0])


@pytest.mark.parametrize(
    "value",
    ["1" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000, "0b" + "1" * 20000, "0" + "7" * 5000, "1" * 5000 + ".5"],
    ids=["decimal", "negative", "hexadecimal", "binary", "octal", "float"],
)
def test_a_number_of_thousands_of_digits_in_a_profile_is_an_error_naming_the_file_and_place(value: str) -> None:
    error = yaml_error(f"region: 吉林省\nrevenue: {value}\n")
    assert error.startswith("profile.yaml:2:10: ") and "characters" in error
    assert len(error) < SHORT


def test_a_number_of_thousands_of_digits_as_a_key_is_an_error_too() -> None:
    error = yaml_error("region: 吉林省\n" + "7" * 5000 + ": 1\n")
    assert error.startswith("profile.yaml:2:1: ") and len(error) < SHORT


def test_ordinary_numbers_are_still_read_as_numbers() -> None:
    data = parse_yaml(SourceFile("p.yaml", "revenue: 1200000000\nloan_rate: 0.0435\nbig: 1" + "0" * 90 + "\n"))
    assert data == {"revenue": 1_200_000_000, "loan_rate": 0.0435, "big": 10**90}


@pytest.mark.parametrize("parse", [parse_money, parse_number, parse_fraction])
@pytest.mark.parametrize("text", ["1" * 5000, "一" * 5000, "1" * 4301 + "万", "十二亿" * 1365, "1,000" * 1000])
def test_a_number_of_thousands_of_digits_written_as_text_is_refused_as_too_long(parse, text: str) -> None:
    result = parse(text)
    assert result == Invalid("too_long", result.excerpt)
    assert len(result.excerpt) <= 21 and len(text) > MAX_NUMBER_CHARS


def alias_bomb(levels: int) -> str:
    """A profile whose industries hold a few hundred bytes that expand to 9**levels values ("a billion laughs")."""
    names = "abcdefghij"
    items = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip(names, names[1 : levels + 1], strict=False):
        items.append(f"&{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "region: 吉林省\nindustries: [" + ",".join(items) + "]\n"


@pytest.mark.parametrize("levels", [6, 7, 9])
def test_an_alias_bomb_inside_industries_is_refused_in_well_under_a_second(tmp_path: Path, levels: int) -> None:
    profile = tmp_path / "bomb.yaml"
    profile.write_text(alias_bomb(levels), encoding="utf-8")
    assert profile.stat().st_size < 600 and 9**levels > MAX_EXPANDED_VALUES
    started = time.perf_counter()
    with pytest.raises(SourceErrors) as caught:
        read_profile(profile)
    assert time.perf_counter() - started < 1
    message = str(caught.value)
    assert "aliases" in message and len(message) < SHORT and "\n" not in message


def test_a_small_use_of_aliases_is_still_read(tmp_path: Path) -> None:
    profile = tmp_path / "aliases.yaml"
    profile.write_text("industries: &pharma [中药, 生物药]\napprovals: []\nprojects: *pharma\n", encoding="utf-8")
    assert read_profile(profile)["projects"] == ["中药", "生物药"]


def test_a_5_mb_profile_is_refused_by_its_size_before_it_is_parsed(tmp_path: Path, monkeypatch) -> None:
    profile = tmp_path / "huge.yaml"
    profile.write_text("".join(f"fact_{i}: {i}\n" for i in range(400_000)), encoding="utf-8")
    assert profile.stat().st_size > 5_000_000

    def never(source: SourceFile) -> None:
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(loading, "parse_yaml", never)
    with pytest.raises(SourceErrors) as caught:
        read_profile(profile)
    message = str(caught.value)
    assert f"at most {MAX_PROFILE_BYTES:,}" in message and len(message) < SHORT


def test_a_profile_without_a_size_is_read_no_further_than_the_limit() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero on this system")
    started = time.perf_counter()
    with pytest.raises(SourceErrors) as caught:
        read_profile(zero)
    assert time.perf_counter() - started < 2
    assert "over" in str(caught.value) and len(str(caught.value)) < SHORT


def test_an_empty_profile_is_an_error_that_says_so(tmp_path: Path) -> None:
    for text in ("", "\n\n", "# only a comment\n", "---\n"):
        profile = tmp_path / "empty.yaml"
        profile.write_text(text, encoding="utf-8")
        with pytest.raises(SourceErrors) as caught:
            read_profile(profile)
        assert "the profile is empty" in str(caught.value)


def test_a_fact_name_of_100_kb_is_refused_without_being_quoted(tmp_path: Path) -> None:
    profile = tmp_path / "key.yaml"
    # An explicit key ("? "): PyYAML itself refuses plain keys over 1,024 characters.
    profile.write_text("region: 吉林省\n? " + "x" * 100_000 + "\n: 1\n", encoding="utf-8")
    with pytest.raises(SourceErrors) as caught:
        read_profile(profile)
    message = str(caught.value)
    assert ":2: a fact name of 100,000 characters" in message
    assert len(message) < SHORT + len(str(profile))


@pytest.mark.parametrize(
    "text",
    [
        "a: *" + "b" * 100_000,
        "a: !" + "x" * 100_000 + " 1",
        "? " + "k" * 100_000 + "\n: 1\n? " + "k" * 100_000 + "\n: 2\n",
        "a: '" + "x" * 100_000,
        "a: [" + "x, " * 30_000,
    ],
    ids=["undefined alias", "unknown tag", "duplicate key", "unclosed quote", "unclosed list"],
)
def test_yaml_errors_about_a_long_name_or_value_stay_short(text: str) -> None:
    assert len(yaml_error(text)) < SHORT

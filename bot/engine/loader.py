"""Compiles the texts of a rules folder (catalogue, policy rules, application calls) strictly, with
file:line:column errors that say how to fix them."""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import hashlib
import pickle
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.engine import conditions as c
from bot.engine.answers import parse_answer
from bot.engine.contradictions import FactTest, contradictions, requirements
from bot.engine.model import (
    FACT_TYPES,
    LANGUAGES,
    NUMERIC_TYPES,
    REWARD_KINDS,
    ApplicationCall,
    Catalogue,
    ChoiceOption,
    Deadline,
    Document,
    Horizon,
    Question,
    Reward,
    Rule,
    RuleSet,
)
from bot.engine.parsing import Invalid, parse_money
from bot.engine.regions import RegionIndex, region_index_from_csv
from bot.engine.textnorm import clean_document
from bot.engine.yamlsource import (
    START,
    Kept,
    Mapping,
    Position,
    Sequence,
    SourceError,
    SourceErrors,
    SourceFile,
    read_yaml,
    text_key,
)

CATALOGUE_FILE = "questions.yaml"
POLICY_DIR = "policies"
CALLS_DIR = "calls"
TESTS_DIR = "tests"

RULE_KEYS = {
    "note_en",
    "id",
    "title",
    "clause",
    "quote",
    "region",
    "when",
    "reward",
    "department",
    "materials",
    "deadlines",
    "valid_from",
    "valid_until",
    "note",
}
# What each key a rule cannot do without holds, for the message that asks for it.
REQUIRED_RULE_KEYS = {
    "id": "a short name of a-z, 0-9 and '-', e.g. jilin-1-clinical-trial",
    "title": "the incentive's name as enterprises see it",
    "clause": 'the measure number as in the source, e.g. "12"',
    "quote": "the sentence of the source it encodes, copied verbatim",
    "reward": "what it grants, e.g. {kind: cash_reward, cap: 200万}",
}
REWARD_KEYS = {"kind", "cap", "min", "per_variety", "formula", "note", "note_en"}
DEADLINE_KEYS = {"date", "label", "label_en", "opens"}
DOCUMENT_KEYS = {"id", "title", "file", "region", "issuer", "published", "note"}
CALL_KEYS = {"id", "title", "rules", "opens", "closes", "where", "contact", "note"}
QUESTION_KEYS = {"fact", "type", "label", "text", "help", "options", "screens", "controllable", "none_is_zero"}
OPTION_KEYS = {"value", "labels", "synonyms", "if_not_chosen"}
COMPARISON_OPS = tuple(c.COMPARISONS)
FIRST_OPS = {f"first_{op}": op for op in COMPARISON_OPS}
# A formula estimates an amount: money times rates (and plain numbers such as 0.2).
FORMULA_TYPES = ("money", "rate")
# Each type of fact as a message names it.
TYPE_WORDS = {
    "bool": "yes/no",
    "choice": "choice",
    "multi_choice": "multi-choice",
    "number": "count",
    "region": "region",
}
# How to write a value of each type, for a message about one that cannot be read.
HOW_TO_WRITE = {
    "money": "write e.g. 200万, 1.5亿 or 2000000",
    "number": "write a number, e.g. 3",
    "rate": "write e.g. 4.35% or 0.0435",
    "bool": "write true or false",
    "region": "name a region of data/regions.csv, e.g. 吉林省长春市",
}


@dataclass(frozen=True)
class RuleSources:
    """The texts of everything a rule set is compiled from, read from disk (or elsewhere) by the caller.

    `document_texts` holds the source documents by file name, as the metadata files' `file:` names them;
    `unreadable` lists files that exist but could not be read, so they are reported with the rest.
    """

    catalogue: SourceFile | None
    regions: SourceFile
    policies: tuple[SourceFile, ...] = ()
    calls: tuple[SourceFile, ...] = ()
    tests: tuple[SourceFile, ...] = ()
    documents: tuple[SourceFile, ...] = ()
    document_texts: dict[str, SourceFile] = field(default_factory=dict)
    unreadable: tuple[SourceError, ...] = ()


class _Collector:
    """Gathers every error of one file so an admin sees them all at once."""

    def __init__(self, path: str, errors: Iterable[SourceError] = ()):
        self.path = path
        self.errors: list[SourceError] = list(errors)

    def error(self, at: Position, message: str) -> None:
        error = SourceError.at(self.path, at, message)
        if error not in self.errors:  # two checks reaching the same problem report it once
            self.errors.append(error)

    def require_mapping(self, value: Any, at: Position, what: str) -> bool:
        if isinstance(value, Mapping):
            return True
        self.error(at, f"{what} must be a mapping (key: value lines)")
        return False

    def check_keys(self, mapping: Mapping, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(mapping.at(key), f"unknown key '{_short(key)}' in {what}{_suggestion(key, allowed)}")

    def text(self, mapping: Mapping, key: str, what: str, required: bool = True) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required and key not in mapping:
                self.error(mapping.position, f"{what} needs '{key}'")
            elif required:
                self.error(mapping.at(key), f"'{key}' is empty; write its text after '{key}:'")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(mapping.value_at(key), f"'{key}' must be text")
            return None
        return value.strip()

    def date(self, mapping: Mapping, key: str) -> date | None:
        value = mapping.get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(mapping.value_at(key), f"'{key}' is not a date: '{_short(value)}' (write YYYY-MM-DD)")
            return None

    def done(self) -> None:
        if self.errors:
            raise SourceErrors(self.errors)


def _read(source: SourceFile) -> tuple[Any, _Collector]:
    """The file's value, and a collector holding the problems reading it left (duplicate keys)."""
    data, problems = read_yaml(source)
    return data, _Collector(source.path, problems)


def _did_you_mean(word: Any, choices: Any) -> str:
    best = process.extractOne(str(word), list(choices), score_cutoff=70)
    return f" (did you mean '{best[0]}'?)" if best else ""


def _suggestion(word: Any, choices: Iterable[str]) -> str:
    """The closest choice, or all of them when none is close: how to write the word instead."""
    choices = sorted(choices)
    return _did_you_mean(word, choices) or f" (use one of: {', '.join(choices)})"


def _texts(col: _Collector, mapping: Mapping, key: str, what: str) -> dict[str, str]:
    value = mapping.get(key)
    if value is None:
        col.error(mapping.position, f"{what} needs '{key}'")
        return {}
    if isinstance(value, str):
        return _with_traditional({"zh-Hans": value})
    if not col.require_mapping(value, mapping.value_at(key), f"'{key}'"):
        return {}
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            col.error(value.at(lang), f"unknown language '{_short(lang)}' (use {', '.join(LANGUAGES)})")
        elif not isinstance(text, str) or not text.strip():
            col.error(value.at(lang), f"'{lang}' text must not be empty")
        else:
            texts[lang] = text.strip()
    if "zh-Hans" not in texts:
        col.error(value.position, f"'{key}' needs a zh-Hans text")
    return _with_traditional(texts)


def _with_traditional(texts: dict[str, str]) -> dict[str, str]:
    if "zh-Hant" not in texts and "zh-Hans" in texts:
        texts["zh-Hant"] = _to_traditional(texts["zh-Hans"])
    return texts


@lru_cache(maxsize=4096)
def _to_traditional(text: str) -> str:
    return _s2t().convert(text)


@lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


# Ids and option values travel in button data, which Telegram limits to 64 bytes ("r:<rule id>",
# "t:<fact>:<option>"), so they are short, plain and lower-case.
IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_RULE_ID_BYTES = 60
MAX_FACT_AND_OPTION_BYTES = 60


def _check_identifier(col: _Collector, value: str, at: Position, what: str, limit: int) -> None:
    if not IDENTIFIER.fullmatch(value):
        col.error(at, f"{what} '{_short(value)}' may use only a-z, 0-9, '_' and '-' (starting with a letter or digit)")
    elif len(value.encode()) > limit:
        col.error(at, f"{what} '{value}' is too long (at most {limit} characters; it travels in button data)")


def _translated(col: _Collector, mapping: Mapping, key: str) -> dict[str, str] | None:
    """Text an admin wrote under `key` (Chinese, as in the source) and its English under `key`_en, if given."""
    texts: dict[str, str] = {}
    for name, language in ((key, "zh-Hans"), (f"{key}_en", "en")):
        value = mapping.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            col.error(mapping.value_at(name), f"'{name}' must be text")
        else:
            texts[language] = value.strip()
    if "en" in texts and "zh-Hans" not in texts:
        col.error(mapping.at(f"{key}_en"), f"'{key}_en' translates '{key}', which is missing")
    return texts or None


def load_catalogue(source: SourceFile) -> Catalogue:
    """Compiles the question catalogue; every problem is reported with its place."""
    data, col = _read(source)
    questions: dict[str, Question] = {}
    items_by_fact: dict[str, Mapping] = {}
    items = data.get("questions") if isinstance(data, Mapping) else None
    if not isinstance(items, Sequence):
        col.error(getattr(data, "position", START), "the catalogue needs a 'questions:' list")
        col.done()
    for index, item in enumerate(items):
        if not col.require_mapping(item, items.at(index), "a question"):
            continue
        col.check_keys(item, QUESTION_KEYS, "a question")
        fact = col.text(item, "fact", "a question")
        kind = col.text(item, "type", "a question")
        if fact is None or kind is None:
            continue
        if fact in questions:
            col.error(item.value_at("fact"), f"fact '{fact}' is defined twice; keep one of them")
        _check_identifier(col, fact, item.value_at("fact"), "fact", MAX_FACT_AND_OPTION_BYTES)
        if kind not in FACT_TYPES:
            col.error(item.value_at("type"), f"unknown type '{_short(kind)}'{_suggestion(kind, FACT_TYPES)}")
        options = _options(col, item, kind)
        longest = max((len(o.value.encode()) for o in options), default=0)
        if len(fact.encode()) + longest > MAX_FACT_AND_OPTION_BYTES:
            col.error(item.value_at("fact"), f"fact '{fact}' and its longest option value are too long for button data")
        questions[fact] = Question(
            fact=fact,
            type=kind,
            label=_texts(col, item, "label", f"question '{fact}'"),
            text=_texts(col, item, "text", f"question '{fact}'"),
            help=_texts(col, item, "help", f"question '{fact}'"),
            options=options,
            order=index,
            controllable=_flag(col, item, kind, "controllable", "bool"),
            none_is_zero=_flag(col, item, kind, "none_is_zero", "money"),
        )
        items_by_fact[fact] = item
    for fact, item in items_by_fact.items():
        if "screens" in item or any(option.if_not_chosen for option in questions[fact].options):
            questions[fact] = _screening(col, item, questions[fact], questions)
    _check_screened_once(col, items_by_fact, questions)
    col.done()
    return Catalogue(questions)


def _flag(col: _Collector, item: Mapping, kind: str, key: str, only: str) -> bool:
    """A true/false setting of a question that only questions of one type take."""
    value = item.get(key, False)
    if not isinstance(value, bool):
        col.error(item.value_at(key), f"'{key}' is true or false")
        return False
    if value and kind != only:
        col.error(item.value_at(key), f"only a {TYPE_WORDS.get(only, only)} question can be '{key}'")
        return False
    return value


# What a fact may be set to when a screening option is not chosen: nothing happened, so nothing to count.
_IMPLIED_TYPES = {"money": (int, float), "number": (int, float), "rate": (int, float), "bool": (bool,)}


def _screening(col: _Collector, item: Mapping, question: Question, questions: dict[str, Question]) -> Question:
    """A screening question: the options of the facts it screens, then its own (with what their absence implies)."""
    if question.type != "multi_choice":
        col.error(item.at("screens") if "screens" in item else item.at("options"),
                  "only a multi_choice question can screen other facts or imply values")  # fmt: skip
        return question
    raw = item.get("screens") or []
    screened: list[str] = []
    if not isinstance(raw, list):
        col.error(item.value_at("screens"), "'screens' is a list of multi_choice facts")
        raw = []
    for index, fact in enumerate(raw):
        at = raw.at(index) if isinstance(raw, Sequence) else item.value_at("screens")
        target = questions.get(fact) if isinstance(fact, str) else None
        if target is None:
            hint = _did_you_mean(str(fact), questions) if isinstance(fact, str) else ""
            col.error(at, f"'screens' names '{_short(str(fact))}', which is not a question of this catalogue{hint}")
        elif target.type != "multi_choice" or target.screens:
            col.error(at, f"'{fact}' is not a multi_choice question; only their options can be offered here")
        else:
            screened.append(fact)
    offered = [option for fact in screened for option in questions[fact].options]
    seen: dict[str, str] = {}
    for fact in screened:
        for option in questions[fact].options:
            if option.value in seen:
                col.error(item.value_at("screens"), f"option '{option.value}' is in both '{seen[option.value]}' "
                          f"and '{fact}'; a screening question needs each value once")  # fmt: skip
            seen[option.value] = fact
    own = item.get("options") or []
    for index, option in enumerate(question.options):
        entry = own[index] if isinstance(own, Sequence) and index < len(own) else item
        if option.value in seen:
            where = entry.value_at("value") if isinstance(entry, Mapping) and "value" in entry else item.at("options")
            col.error(where, f"option '{option.value}' is already an option of '{seen[option.value]}'; rename it")
        for fact, value in option.if_not_chosen:
            target = questions.get(fact)
            where = entry.value_at("if_not_chosen") if isinstance(entry, Mapping) else item.at("options")
            if target is None:
                col.error(where, f"'if_not_chosen' names '{_short(fact)}', which is not a question of this catalogue"
                          f"{_did_you_mean(fact, questions)}")  # fmt: skip
            elif target.type not in _IMPLIED_TYPES:
                col.error(where, f"'if_not_chosen' can set money, number, rate or yes/no facts, not '{fact}'")
            elif not isinstance(value, _IMPLIED_TYPES[target.type]) or (
                target.type != "bool" and (isinstance(value, bool) or value < 0)
            ):
                col.error(where, f"'{fact}' cannot be {_short(str(value))!r}; write a {target.type} value such as "
                          f"{'false' if target.type == 'bool' else '0'}")  # fmt: skip
    return dataclasses.replace(question, options=(*offered, *question.options), screens=tuple(screened))


def _check_screened_once(col: _Collector, items: dict[str, Mapping], questions: dict[str, Question]) -> None:
    """A fact is screened, or implied by an option, by one screening question at most: two would disagree."""
    owner: dict[str, str] = {}
    for fact, question in questions.items():
        implied = [f for option in question.options for f, _ in option.if_not_chosen]
        for target in [*question.screens, *implied]:
            if owner.get(target, fact) != fact or implied.count(target) > 1:
                col.error(
                    items[fact].at("options"), f"'{target}' is screened twice; one option or question may decide it"
                )
            owner[target] = fact


def _options(col: _Collector, item: Mapping, kind: str) -> tuple[ChoiceOption, ...]:
    raw = item.get("options")
    if kind not in ("choice", "multi_choice"):
        if raw is not None:
            col.error(item.at("options"), f"a {kind} question takes no options")
        return ()
    if not isinstance(raw, Sequence) or not raw:
        col.error(item.at("options"), f"a {kind} question needs options")
        return ()
    options, seen = [], set()
    for index, entry in enumerate(raw):
        if not col.require_mapping(entry, raw.at(index), "an option"):
            continue
        col.check_keys(entry, OPTION_KEYS, "an option")
        value = col.text(entry, "value", "an option")
        if value is None:
            continue
        if value in seen:
            col.error(entry.value_at("value"), f"option '{value}' is listed twice; keep one of them")
        _check_identifier(col, value, entry.value_at("value"), "option value", MAX_FACT_AND_OPTION_BYTES)
        seen.add(value)
        synonyms = entry.get("synonyms") or []
        if not isinstance(synonyms, list):
            col.error(entry.value_at("synonyms"), "'synonyms' must be a list")
            synonyms = []
        labels = _texts(col, entry, "labels", f"option '{value}'")
        implied = entry.get("if_not_chosen")
        if implied is not None and not isinstance(implied, Mapping):
            message = "'if_not_chosen' maps facts to the values they take, e.g. {idle_variety_sales: 0}"
            col.error(entry.value_at("if_not_chosen"), message)
            implied = None
        pairs = tuple((str(fact), fact_value) for fact, fact_value in (implied or {}).items())
        options.append(ChoiceOption(value, labels, tuple(str(s) for s in synonyms), pairs))
    return tuple(options)


def load_document(meta: SourceFile, texts: dict[str, SourceFile]) -> Document:
    """Compiles one policy metadata file with the source text it names."""
    data, col = _read(meta)
    if not col.require_mapping(data, START, "a document metadata file"):
        col.done()
    col.check_keys(data, DOCUMENT_KEYS, "a document")
    doc_id = col.text(data, "id", "a document")
    title = col.text(data, "title", "a document")
    file = col.text(data, "file", "a document")
    region = col.text(data, "region", "a document")
    published = col.date(data, "published")
    text = ""
    if file:
        source = texts.get(file)
        if source is None:
            col.error(data.value_at("file"), f"source document '{file}' is missing (it belongs beside {meta.path})")
        else:
            text = _cleaned(source.text)
    col.done()
    return Document(doc_id, title, file, region, data.get("issuer"), published, text)


@lru_cache(maxsize=32)
def _cleaned(text: str) -> str:
    """The source text as quotes are checked against; kept, since every reload reads the same documents."""
    return clean_document(text)


def load_documents(metas: Iterable[SourceFile], texts: dict[str, SourceFile]) -> dict[str, Document]:
    documents: dict[str, Document] = {}
    errors: list[SourceError] = []
    for meta in metas:
        try:
            doc = load_document(meta, texts)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        if doc.id in documents:
            errors.append(SourceError.at(meta.path, START, f"document id '{doc.id}' is used twice; give each its own"))
        documents[doc.id] = doc
    if errors:
        raise SourceErrors(errors)
    return documents


class _RuleCompiler:
    """Checks one policy rule file against the catalogue and compiles its conditions."""

    def __init__(self, col: _Collector, catalogue: Catalogue, regions: RegionIndex):
        self.col, self.catalogue, self.regions = col, catalogue, regions
        # Rules repeat their thresholds and amounts ("5000万" for many of them): each is read once per file.
        self._read: dict[tuple[str, type, Any], Any] = {}

    def _parsed(self, question: Question | None, raw: Any) -> Any:
        """parse_answer (or parse_money without a question) of a value, once per fact and value."""
        if not isinstance(raw, str | int | float):
            return parse_answer(question, raw, self.regions) if question else parse_money(str(raw))
        key = (question.fact if question else "", type(raw), raw)
        result = self._read.get(key)
        if result is None:
            result = parse_answer(question, raw, self.regions) if question else parse_money(str(raw))
            self._read[key] = result
        return result

    def question(self, mapping: Mapping, key: str = "fact") -> Question | None:
        fact = mapping.get(key)
        if not isinstance(fact, str):
            self.col.error(mapping.value_at(key), f"'{key}' must name a fact, e.g. revenue")
            return None
        if fact not in self.catalogue:
            hint = _did_you_mean(fact, self.catalogue.questions) or " (the facts are listed in questions.yaml)"
            self.col.error(mapping.value_at(key), f"unknown fact '{_short(fact)}'{hint}")
            return None
        return self.catalogue[fact]

    def value(self, question: Question, raw: Any, at: Position) -> Any:
        result = self._parsed(question, raw)
        if isinstance(result, Invalid):
            self.col.error(at, f"bad value '{_short(raw)}' for {question.fact}: {_problem(result)}{_how(question)}")
            return None
        return result.value

    def condition(self, raw: Any, at: Position, inside_all: bool = False) -> c.Condition | None:
        if not self.col.require_mapping(raw, at, "a condition"):
            return None
        label = _translated(self.col, raw, "label")
        keys = set(raw) - {"label", "label_en"}
        for group, cls in (("all", c.AllOf), ("any", c.AnyOf)):
            if group in keys:
                return self._group(raw, group, cls, keys, label, inside_all)
        if "not" in keys:
            if keys != {"not"}:
                self.col.error(raw.position, "'not' stands alone with one condition under it")
            part = self.condition(raw["not"], raw.value_at("not"))
            return c.Not(part, label) if part else None
        if "fact" not in keys:
            found = ", ".join(sorted(map(str, keys)))
            self.col.error(raw.position, f"a condition needs 'fact', 'all', 'any' or 'not' (found: {_short(found)})")
            return None
        return self._fact_condition(raw, keys - {"fact"}, label)

    def _group(
        self, raw: Mapping, group: str, cls: type, keys: set[str], label: dict | None, inside_all: bool
    ) -> c.Condition | None:
        if keys != {group}:
            found = ", ".join(sorted(map(str, keys)))
            self.col.error(raw.position, f"'{group}' stands alone with its list of conditions (found: {found})")
        items = raw[group]
        if not isinstance(items, Sequence) or not items:
            self.col.error(raw.value_at(group), f"'{group}' needs a non-empty list of conditions")
            return None
        nested = group == "all"
        parts = [self.condition(item, items.at(i), nested) for i, item in enumerate(items)]
        if any(p is None for p in parts):
            return None
        if nested and not inside_all:  # an `all` inside this one is checked with it, as one list of tests
            for where, problem in contradictions(_fact_tests(items, parts)):
                self.col.error(where, problem)
        return cls(parts, label)

    def _fact_condition(self, raw: Mapping, ops: set[str], label: dict | None) -> c.Condition | None:
        question = self.question(raw)
        if question is None:
            return None
        if len(ops - {"previous"}) != 1:
            found = ", ".join(sorted(map(str, ops))) or "none"
            self.col.error(raw.position, f"a condition on '{question.fact}' needs exactly one test (found: {found})")
            return None
        op = next(iter(ops - {"previous"}))
        at = raw.value_at(op)
        if op in COMPARISON_OPS or op in FIRST_OPS:
            return self._numeric(raw, question, op, at, label)
        if op in ("contains", "contains_any"):
            return self._contains(raw, question, op, at, label)
        if op == "is":
            if question.type not in ("bool", "choice"):
                self.col.error(at, f"'is' needs a yes/no or choice fact; '{question.fact}' is {question.type}")
                return None
            value = self.value(question, raw[op], at)
            return None if value is None else c.Equals(question, value, label)
        known = [*COMPARISON_OPS, *FIRST_OPS, "contains", "contains_any", "is"]
        self.col.error(raw.at(op), f"unknown test '{_short(op)}'{_suggestion(op, known)}")
        return None

    def _numeric(
        self, raw: Mapping, question: Question, op: str, at: Position, label: dict | None
    ) -> c.Condition | None:
        if question.type not in NUMERIC_TYPES:
            self.col.error(raw.at(op), f"'{op}' compares numbers; '{question.fact}' is {question.type}")
            return None
        threshold = self.value(question, raw[op], at)
        if threshold is None:
            return None
        if op in FIRST_OPS:
            previous = self.question(raw, "previous") if "previous" in raw else None
            if previous is None:
                if "previous" not in raw:
                    self.col.error(raw.at(op), f"'{op}' needs 'previous: <last year's fact>'")
                return None
            return c.FirstCrossing(question, previous, FIRST_OPS[op], threshold, label)
        if "previous" in raw:
            self.col.error(raw.at("previous"), "'previous' goes only with first_more_than/first_at_least")
        return c.Compare(question, op, threshold, label)

    def _contains(
        self, raw: Mapping, question: Question, op: str, at: Position, label: dict | None
    ) -> c.Condition | None:
        if question.type != "multi_choice":
            self.col.error(raw.at(op), f"'{op}' needs a multi-choice fact; '{question.fact}' is {question.type}")
            return None
        wanted = raw[op] if op == "contains_any" else Sequence([raw[op]])
        if not isinstance(wanted, list) or not wanted:
            self.col.error(at, f"'{op}' needs a list of option values, e.g. [tcm, biologics]")
            return None
        values = []
        for index, value in enumerate(wanted):
            if question.option(str(value)) is None:
                allowed = [o.value for o in question.options]
                where = wanted.at(index) if isinstance(wanted, Sequence) and wanted.item_positions else at
                self.col.error(
                    where, f"'{_short(value)}' is not an option of {question.fact}{_suggestion(value, allowed)}"
                )
                return None
            values.append(str(value))
        return c.Contains(question, tuple(values), label)

    def region(self, raw: Any, at: Position) -> str | None:
        if not isinstance(raw, str):
            self.col.error(at, "'region' must name a region, e.g. 吉林省")
            return None
        return self.value(self.catalogue["region"], raw, at)

    def amount(self, mapping: Mapping, key: str) -> int | None:
        raw = mapping.get(key)
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return raw
        result = self._parsed(None, raw)
        if isinstance(result, Invalid):
            where = mapping.value_at(key)
            self.col.error(where, f"'{key}' is not an amount: '{_short(raw)}' (write e.g. 200万, 1.5亿 or 2000000)")
            return None
        return result.value

    def reward(self, raw: Any, at: Position) -> Reward | None:
        if not self.col.require_mapping(raw, at, "'reward'"):
            return None
        self.col.check_keys(raw, REWARD_KEYS, "'reward'")
        kind = self.col.text(raw, "kind", "'reward'")
        if kind is not None and kind not in REWARD_KINDS:
            self.col.error(
                raw.value_at("kind"), f"unknown reward kind '{_short(kind)}'{_suggestion(kind, REWARD_KINDS)}"
            )
        cap, minimum = self.amount(raw, "cap"), self.amount(raw, "min")
        if minimum is not None and cap is not None and minimum > cap:
            shown = f"{_short(raw['min'])} > {_short(raw['cap'])}"
            self.col.error(raw.value_at("min"), f"'min' is larger than 'cap' ({shown}); swap them or correct one")
        if minimum is not None and cap is None:
            self.col.error(raw.at("min"), "a range needs both 'min' and 'cap'; add 'cap' (the most it grants)")
        if kind in ("tax_measure", "non_cash") and (cap is not None or minimum is not None):
            self.col.error(raw.position, f"a {kind} reward carries no amount; remove 'cap' and 'min'")
        formula = self._formula(raw)
        per_variety = raw.get("per_variety", False)
        if not isinstance(per_variety, bool):
            self.col.error(raw.value_at("per_variety"), "'per_variety' must be true or false")
        return Reward(kind or "", cap, minimum, bool(per_variety), formula, _translated(self.col, raw, "note"))

    def _formula(self, raw: Mapping) -> tuple[str | Decimal, ...]:
        formula = raw.get("formula")
        if formula is None:
            return ()
        at = raw.value_at("formula")
        if (
            not isinstance(formula, Mapping)
            or set(formula) != {"multiply"}
            or not isinstance(formula["multiply"], list)
        ):
            self.col.error(at, "'formula' takes 'multiply: [fact or number, ...]'")
            return ()
        factors: list[str | Decimal] = []
        listed = formula["multiply"]
        for index, factor in enumerate(listed):
            where = listed.at(index) if isinstance(listed, Sequence) else at
            if isinstance(factor, bool) or not isinstance(factor, str | int | float):
                self.col.error(where, f"bad factor '{_short(factor)}' in formula; write a fact or a number")
            elif isinstance(factor, str):
                self._formula_fact(factor, where)
                factors.append(factor)
            else:
                factors.append(Decimal(str(factor)))
        return tuple(factors)

    def _formula_fact(self, factor: str, at: Position) -> None:
        if factor not in self.catalogue:
            hint = _did_you_mean(factor, self.catalogue.questions)
            self.col.error(at, f"formula factor '{_short(factor)}' is not a fact{hint}")
        elif self.catalogue[factor].type not in FORMULA_TYPES:
            kind = TYPE_WORDS.get(self.catalogue[factor].type, self.catalogue[factor].type)
            self.col.error(
                at,
                f"formula factor '{factor}' is a {kind} fact; a formula multiplies money and rates "
                "(and plain numbers), e.g. [loan_amount, loan_rate]",
            )

    def deadlines(self, raw: Any, at: Position, window: tuple[date | None, date | None]) -> tuple[Deadline, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Sequence):
            self.col.error(at, "'deadlines' must be a list of {date, label}")
            return ()
        found = []
        for index, entry in enumerate(raw):
            if not self.col.require_mapping(entry, raw.at(index), "a deadline"):
                continue
            self.col.check_keys(entry, DEADLINE_KEYS, "a deadline")
            when = self.col.date(entry, "date")
            label = _translated(self.col, entry, "label")
            if when is None and "date" not in entry:
                self.col.error(entry.position, "a deadline needs 'date' (YYYY-MM-DD)")
            if label is None:
                self.col.error(entry.position, "a deadline needs 'label' (what happens on that date)")
            opens = self.col.date(entry, "opens")
            for key, day in (("date", when), ("opens", opens)):
                problem = _outside(day, window, "the rule")
                if problem:
                    fix = "correct the date or the rule's valid_from/valid_until"
                    self.col.error(entry.value_at(key), f"'{key}' {day} is {problem}; {fix}")
            if when and label:
                found.append(Deadline(when, label, opens))
        return tuple(found)


def _fact_tests(items: Sequence, parts: list[c.Condition]) -> list[FactTest]:
    """The tests an `all` puts on single facts, each where it is written; an `all` inside it adds its own."""
    tests: list[FactTest] = []
    for index, (item, part) in enumerate(zip(items, parts, strict=True)):
        inner = item.get("all") if isinstance(item, Mapping) else None
        if isinstance(part, c.AllOf) and isinstance(inner, Sequence):
            tests.extend(_fact_tests(inner, part.parts))
        else:
            tests.extend(requirements(part, items.at(index)))
    return tests


def _outside(day: date | None, window: tuple[date | None, date | None], whose: str) -> str | None:
    """How a date falls outside a validity window (valid_from, valid_until), or None when it is inside."""
    valid_from, valid_until = window
    if day is None:
        return None
    if valid_until is not None and day > valid_until:
        return f"after {whose} ends (valid_until: {valid_until})"
    if valid_from is not None and day < valid_from:
        return f"before {whose} starts (valid_from: {valid_from})"
    return None


def _without_whitespace(text: str) -> str:
    return "".join(text.split())


@lru_cache(maxsize=64)
def _searchable(document_text: str) -> str:
    return _without_whitespace(document_text)


def quote_occurs(quote: str, document: Document) -> bool:
    """True when the quote is in the cleaned source; line breaks the publisher put inside a sentence are ignored."""
    return _without_whitespace(quote) in _searchable(document.text)


# A passage of the source at least this like a quote that is not in it is shown as what the quote may have meant.
CLOSEST_PASSAGE_SCORE = 60
MAX_PASSAGE_CHARS = 80


def _closest_passage(quote: str, document: Document) -> str:
    """', closest in the source: '…'' for the passage most like the quote, or nothing when none is alike."""
    wanted = _without_whitespace(quote)[:MAX_PASSAGE_CHARS]
    text = _searchable(document.text)
    found = fuzz.partial_ratio_alignment(wanted, text, score_cutoff=CLOSEST_PASSAGE_SCORE)
    if found is None or not wanted:
        return ""
    return f"; closest in the source: '{text[found.dest_start : found.dest_end]}'"


def load_policy_file(
    source: SourceFile, catalogue: Catalogue, documents: dict[str, Document], regions: RegionIndex
) -> list[Rule]:
    """Compiles one rule file (one per source document); quotes are checked against the document text."""
    data, col = _read(source)
    if not col.require_mapping(data, START, "a rule file"):
        col.done()
    col.check_keys(data, {"document", "rules", "horizon"}, "a rule file")
    doc_id = data.get("document")
    document = documents.get(doc_id) if isinstance(doc_id, str) else None
    if document is None:
        hint = _did_you_mean(doc_id, documents) if isinstance(doc_id, str) else ""
        known = ", ".join(sorted(documents))
        col.error(data.value_at("document"), f"unknown document '{_short(doc_id)}'{hint} (known: {known})")
    horizon = _horizon(col, data, document)
    items = data.get("rules")
    if not isinstance(items, Sequence):
        col.error(data.value_at("rules"), "a rule file needs a 'rules:' list")
        col.done()
    compiler = _RuleCompiler(col, catalogue, regions)
    rules = []
    for index, item in enumerate(items):
        rule = _compile_rule(compiler, item, items.at(index), document, source.path)
        if rule is not None:
            rules.append(dataclasses.replace(rule, horizon=horizon) if horizon else rule)
    col.done()
    return rules


def _horizon(col: _Collector, data: Mapping, document: Document | None) -> Horizon | None:
    """The policy's stated end: `horizon: {until: 2025-12-31, quote: 到2025年}`, the quote found in the source."""
    raw = data.get("horizon")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        col.error(
            data.value_at("horizon"), "'horizon' is {until: YYYY-MM-DD, quote: the source's words, e.g. 到2025年}"
        )
        return None
    col.check_keys(raw, {"until", "quote"}, "a horizon")
    until = col.date(raw, "until")
    quote = col.text(raw, "quote", "a horizon")
    if until is None and "until" not in raw:
        col.error(raw.position, "a horizon needs 'until': the last day the policy says it runs for (YYYY-MM-DD)")
    if quote and document is not None and not quote_occurs(quote, document):
        col.error(raw.value_at("quote"), f"the horizon's quote does not occur verbatim in {document.file}: copy "
                  f"the words that state it{_closest_passage(quote, document)}")  # fmt: skip
        return None
    return Horizon(until, quote) if until and quote else None


def _compile_rule(
    compiler: _RuleCompiler, item: Any, at: Position, document: Document | None, path: str
) -> Rule | None:
    col = compiler.col
    if not col.require_mapping(item, at, "a rule"):
        return None
    col.check_keys(item, RULE_KEYS, "a rule")
    for key, meaning in REQUIRED_RULE_KEYS.items():
        if item.get(key) is None:
            col.error(item.at(key), f"a rule needs '{key}': {meaning}")
    rule_id = col.text(item, "id", "a rule", required=False)
    if rule_id:
        _check_identifier(col, rule_id, item.value_at("id"), "rule id", MAX_RULE_ID_BYTES)
    quote = col.text(item, "quote", "a rule", required=False)
    if document is not None and quote and not quote_occurs(quote, document):
        col.error(
            item.value_at("quote"),
            f"quote of rule '{rule_id}' does not occur verbatim in {document.file}: copy it from the source as it "
            f"is written{_closest_passage(quote, document)}",
        )
    region = compiler.region(item.get("region", document.region if document else None), item.value_at("region"))
    condition = compiler.condition(item["when"], item.value_at("when")) if "when" in item else None
    reward = compiler.reward(item.get("reward"), item.value_at("reward")) if "reward" in item else None
    materials = item.get("materials") or []
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials):
        col.error(item.value_at("materials"), "'materials' must be a list of texts")
        materials = []
    valid_from, valid_until = col.date(item, "valid_from"), col.date(item, "valid_until")
    if valid_from and valid_until and valid_from > valid_until:
        col.error(item.value_at("valid_until"), "'valid_until' is before 'valid_from'; swap them or correct one")
    window = (
        (valid_from, valid_until) if not (valid_from and valid_until and valid_from > valid_until) else (None, None)
    )
    deadlines = compiler.deadlines(item.get("deadlines"), item.value_at("deadlines"), window)
    department = item.get("department")
    if department is not None and not isinstance(department, str):
        col.error(item.value_at("department"), "'department' must be text (or null when the source names none)")
    title, clause = (
        col.text(item, "title", "a rule", required=False),
        col.text(item, "clause", "a rule", required=False),
    )
    if None in (rule_id, title, clause, quote, region, reward, document) or ("when" in item and condition is None):
        return None
    return Rule(
        id=rule_id,
        title=title,
        document=document,
        clause=clause,
        quote=quote,
        region=region,
        condition=condition,
        reward=reward,
        department=department,
        materials=tuple(materials),
        deadlines=deadlines,
        valid_from=valid_from,
        valid_until=valid_until,
        note=_translated(col, item, "note"),
        path=path,
        line=item.line,
        column=item.position.column,
    )


@dataclass(frozen=True)
class KnownRules:
    """The rules application calls may name: those compiled, and the ids written in rule files refused for other
    problems (a call naming one of those is not reported again: the rule file's own problems say it all)."""

    compiled: dict[str, Rule]
    refused: frozenset[str] = frozenset()


def load_calls(files: Iterable[SourceFile], known: KnownRules | None) -> list[ApplicationCall]:
    """Compiles application calls and checks them against the rules they cover (None: which rules exist is not
    known, so the rules they name are not checked); a call whose file name starts with 'example' is an example."""
    calls: list[ApplicationCall] = []
    errors: list[SourceError] = []
    for source in files:
        try:
            calls.extend(_load_call_file(source, known))
        except SourceErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise SourceErrors(errors)
    return calls


def _load_call_file(source: SourceFile, known: KnownRules | None) -> list[ApplicationCall]:
    data, col = _read(source)
    if not col.require_mapping(data, START, "a call file"):
        col.done()
    col.check_keys(data, {"example", "calls"}, "a call file")
    example = data.get("example", False)
    if source.path.replace("\\", "/").rsplit("/", 1)[-1].startswith("example") != bool(example):
        col.error(data.at("example"), "an example call file is named example-*.yaml and says 'example: true'")
    items = data.get("calls")
    if not isinstance(items, Sequence):
        col.error(data.value_at("calls"), "a call file needs a 'calls:' list")
        col.done()
    calls = []
    for index, item in enumerate(items):
        if not col.require_mapping(item, items.at(index), "a call"):
            continue
        call = _compile_call(col, item, known, bool(example), source.path)
        if call is not None:
            calls.append(call)
    col.done()
    return calls


def _compile_call(
    col: _Collector, item: Mapping, known: KnownRules | None, example: bool, path: str
) -> ApplicationCall | None:
    col.check_keys(item, CALL_KEYS, "a call")
    call_id, title = col.text(item, "id", "a call"), col.text(item, "title", "a call")
    opens, closes = col.date(item, "opens"), col.date(item, "closes")
    if closes is None and "closes" not in item:
        col.error(item.position, "a call needs 'closes' (YYYY-MM-DD, the last day to apply)")
    if opens and closes and opens > closes:
        col.error(item.value_at("closes"), "'closes' is before 'opens'; swap them or correct one")
    covered = item.get("rules")
    if not isinstance(covered, list) or not covered:
        col.error(item.value_at("rules"), "a call needs 'rules: [rule id, ...]'")
        return None
    for index, rule_id in enumerate(covered):
        where = covered.at(index) if isinstance(covered, Sequence) else item.value_at("rules")
        if not isinstance(rule_id, str):
            col.error(where, f"'{_short(rule_id)}' is not a rule id; list ids such as jilin-1-clinical-trial")
            continue
        if known is None or rule_id in known.refused:
            continue
        rule = known.compiled.get(rule_id)
        if rule is None:
            hint = (
                _did_you_mean(rule_id, known.compiled) or " (no rule has this id; check the rule files under policies/)"
            )
            col.error(where, f"unknown rule '{_short(rule_id)}'{hint}")
            continue
        problem = _outside(closes, (rule.valid_from, rule.valid_until), f"rule '{rule_id}'")
        if problem:
            fix = "correct 'closes' or take the rule out of this call"
            col.error(where, f"the call closes on {closes}, {problem}; {fix}")
    if call_id and title and closes:
        return ApplicationCall(
            call_id, title, tuple(covered), closes, opens, item.get("where"), example, path, item.get("contact")
        )
    return None


def load_ruleset(sources: RuleSources, regions: RegionIndex) -> RuleSet:
    """Compiles and checks everything; raises SourceErrors listing every problem, so bad files never load."""
    errors: list[SourceError] = list(sources.unreadable)
    if sources.catalogue is None:
        raise SourceErrors(errors or [_no_catalogue()])
    context = compile_context(sources, regions)
    rules: list[Rule] = []
    # A file that could not be read may hold any rule id: then which rules exist is not known.
    refused: set[str] | None = None if sources.unreadable else set()
    for source in sources.policies:
        try:
            rules.extend(_compile_policy_file(context, source))
        except SourceErrors as exc:
            errors.extend(exc.errors)
            written = _written_ids(source)
            refused = None if written is None or refused is None else refused | written
    errors.extend(_duplicate_ids(rules))
    known = None if refused is None else KnownRules({rule.id: rule for rule in rules}, frozenset(refused))
    try:
        calls = load_calls(sources.calls, known)
    except SourceErrors as exc:
        errors.extend(exc.errors)
        calls = []
    if errors:
        raise SourceErrors(errors)
    return RuleSet(context.catalogue, context.documents, tuple(rules), tuple(calls))


# A reload compiles every rule file again, though mostly one of them changed. The rules of a file are kept by its
# path and text and by the texts of all it is compiled against (catalogue, documents, regions), so a file is
# compiled again only when it or one of those changed. Its problems are kept the same way.
KEPT_FILES = 4096
_compiled_files: Kept[list[Rule] | CompiledFile] = Kept(KEPT_FILES)
PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _context_key(sources: RuleSources) -> bytes:
    """What every rule file is compiled against, as one hash of its texts."""
    parts = [sources.regions, sources.catalogue, *sources.documents, *sources.document_texts.values()]
    named = "\0".join(f"{part.path}\0{text_key(part.text).hex()}" for part in parts if part is not None)
    return hashlib.blake2b(named.encode(), digest_size=16).digest()


@lru_cache(maxsize=4)
def _load_catalogue(source: SourceFile) -> Catalogue:
    """The catalogue of a text, kept: the rules kept with it refer to its questions."""
    return load_catalogue(source)


def _compile_policy_file(context: CompileContext, source: SourceFile) -> list[Rule]:
    stamp = (context.key, text_key(source.text))
    compile_file = lambda: load_policy_file(source, context.catalogue, context.documents, context.regions)  # noqa: E731
    rules = _compiled_files.get(source.path, stamp, compile_file)
    if isinstance(rules, CompiledFile):  # compiled in another process: unpacked the first time it is used
        try:
            rules = _unpacked_rules(rules.packed, context.catalogue, context.documents)
        except (pickle.UnpicklingError, ImportError, KeyError, AttributeError, EOFError, TypeError, ValueError):
            rules = compile_file()  # not expected: compiled here instead
        _compiled_files.put(source.path, stamp, rules)
    return list(rules)


# A reload's rule tests run in a child process (bot.reloading), which compiles every file that changed anyway: the
# rules of those files cross over packed and are kept here as if compiled here, so this process builds the engine
# without parsing or compiling a file again (work that would hold the interpreter the bot's replies need).


@dataclass(frozen=True)
class CompiledFile:
    """The rules compiled from one policy file, packed to cross between processes: its path and stamp (the hash
    of its text and of all it is compiled against, as the cache of compiled files keeps it) and the rules,
    pickled with the questions and documents they refer to named instead of copied."""

    path: str
    stamp: tuple[bytes, bytes]
    packed: bytes


def compiled_stamps() -> dict[str, Any]:
    """The stamp of each policy file whose rules this process keeps compiled, by path."""
    return _compiled_files.stamps()


def compiled_files(sources: RuleSources, known: dict[str, Any]) -> list[CompiledFile]:
    """The rules this process keeps compiled from the policy files of `sources` (as a check of them left them),
    packed, but for the files whose stamp is in `known` (compiled_stamps of the process they go to)."""
    if sources.catalogue is None:
        return []
    context = _context_key(sources)
    questions = _load_catalogue(sources.catalogue).questions
    packed = []
    for source in sources.policies:
        stamp = (context, text_key(source.text))
        if known.get(source.path) == stamp:
            continue
        rules = _compiled_files.kept(source.path, stamp)
        if isinstance(rules, list):
            packed.append(CompiledFile(source.path, stamp, _packed_rules(rules, questions)))
    return packed


def adopt_compiled_files(files: Iterable[CompiledFile]) -> None:
    """Keeps rules compiled in another process as this one's, for the next build of the same texts."""
    for file in files:
        _compiled_files.put(file.path, file.stamp, file)  # unpacked when first used


def policy_files_to_compile(sources: RuleSources) -> list[SourceFile]:
    """The policy files a build of `sources` would compile: those whose rules (or problems) are not kept for their
    text and all they are compiled against."""
    if sources.catalogue is None:
        return []
    context = _context_key(sources)
    kept = _compiled_files.stamps()
    return [source for source in sources.policies if kept.get(source.path) != (context, text_key(source.text))]


@dataclass(frozen=True)
class CompileContext:
    """What every policy file of a rule set is compiled against, with its hash (the first half of a file's stamp):
    worked out once for all the files a build shares out (bot.compiling)."""

    key: bytes
    catalogue: Catalogue
    documents: dict[str, Document]
    regions: RegionIndex


def compile_context(sources: RuleSources, regions: RegionIndex | None = None) -> CompileContext:
    """The catalogue, documents and regions of `sources` (`regions`: their index, when the caller has it); raises
    SourceErrors when they do not compile."""
    if sources.catalogue is None:
        raise SourceErrors([_no_catalogue()])
    catalogue = _load_catalogue(sources.catalogue)
    documents = load_documents(sources.documents, sources.document_texts)
    regions = region_index_from_csv(sources.regions) if regions is None else regions
    return CompileContext(_context_key(sources), catalogue, documents, regions)


def _no_catalogue() -> SourceError:
    return SourceError(CATALOGUE_FILE, 0, "the question catalogue is missing")


def compile_policy_file(context: CompileContext, source: SourceFile) -> None:
    """Compiles one policy file and keeps its rules or problems for the build, as the build itself would."""
    with contextlib.suppress(SourceErrors):  # kept, to be reported by the build with every other problem
        _compile_policy_file(context, source)


def packed_policy_file(context: CompileContext, source: SourceFile) -> CompiledFile | list[SourceError]:
    """One policy file compiled and packed to cross to another process, or its problems; nothing is kept here."""
    try:
        rules = load_policy_file(source, context.catalogue, context.documents, context.regions)
    except SourceErrors as exc:
        return exc.errors
    stamp = (context.key, text_key(source.text))
    return CompiledFile(source.path, stamp, _packed_rules(rules, context.catalogue.questions))


def keep_packed_policy_file(
    context: CompileContext, source: SourceFile, outcome: CompiledFile | list[SourceError]
) -> None:
    """Keeps what packed_policy_file gave in another process, as if compile_policy_file had worked it out here."""
    stamp = (context.key, text_key(source.text))
    if isinstance(outcome, CompiledFile):
        if outcome.path == source.path and outcome.stamp == stamp:
            _compiled_files.put(source.path, stamp, outcome)
    else:
        _compiled_files.put(source.path, stamp, SourceErrors(list(outcome)))


# Rules refer to the catalogue's questions and to documents: packed, each is named (by fact, by id) instead of copied,
# and the process that unpacks the rules puts its own in their place (the stamp says their texts are the same).
# Named by a reducer for their types alone, so pickle's C code handles every other object without calling Python.
# The files cross between the bot's own processes only: unpickling them trusts what the bot itself packed.


def _question_named(fact: str) -> Question:
    return _unpacking.catalogue.questions[fact]


def _document_named(document_id: str) -> Document:
    return _unpacking.documents[document_id]


_unpacking = threading.local()  # the catalogue and documents of the build unpacking rules, while it does


class _Packed(bytearray):
    """Where the pickler writes."""

    def write(self, data: bytes) -> int:
        self.extend(data)
        return len(data)


def _packed_rules(rules: list[Rule], questions: dict[str, Question]) -> bytes:
    def question(q: Question) -> Any:
        return (_question_named, (q.fact,)) if questions.get(q.fact) is q else q.__reduce_ex__(PICKLE_PROTOCOL)

    packed = _Packed()
    pickler = pickle.Pickler(packed, protocol=PICKLE_PROTOCOL)
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        Question: question,
        Document: lambda d: (_document_named, (d.id,)),
    }
    pickler.dump(rules)
    return bytes(packed)


def _unpacked_rules(packed: bytes, catalogue: Catalogue, documents: dict[str, Document]) -> list[Rule]:
    _unpacking.catalogue, _unpacking.documents = catalogue, documents
    try:
        rules = pickle.loads(packed)
    finally:
        del _unpacking.catalogue, _unpacking.documents
    if not isinstance(rules, list):
        raise TypeError("not a list of rules")
    return rules


def _written_ids(source: SourceFile) -> set[str] | None:
    """The rule ids a refused rule file writes; None when it cannot even be parsed."""
    try:
        data, _ = read_yaml(source)
    except SourceErrors:
        return None
    items = data.get("rules") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return set()
    return {item["id"] for item in items if isinstance(item, Mapping) and isinstance(item.get("id"), str)}


def _duplicate_ids(rules: list[Rule]) -> list[SourceError]:
    """Every rule whose id another rule has too, naming where the others are: the one to rename may be either."""
    by_id: dict[str, list[Rule]] = {}
    for rule in rules:
        by_id.setdefault(rule.id, []).append(rule)
    errors = []
    for rule_id, same in by_id.items():
        if len(same) < 2:
            continue
        for rule in same:
            others = ", ".join(f"{o.path}:{o.line}:{o.column}" for o in same if o is not rule)
            times = "twice" if len(same) == 2 else f"{len(same)} times"
            message = f"rule id '{rule_id}' is used {times} (also at {others}); give each rule its own id"
            errors.append(SourceError(rule.path, rule.line, message, rule.column))
    return errors


def _short(value: Any) -> str:
    """A value as an error message may echo it: cut short, so a huge value never floods the message."""
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _problem(result: Invalid) -> str:
    """A parse problem for an admin: its kind, and the places an ambiguous name may mean."""
    described = result.problem.replace("_", " ")
    if result.candidates:
        described += f" (may be: {', '.join(result.candidates)})"
    return described


def _how(question: Question) -> str:
    """'; write …' for a value of the question's type (its options, for a choice)."""
    if question.options:
        return f"; use one of: {', '.join(o.value for o in question.options)}"
    how = HOW_TO_WRITE.get(question.type)
    return f"; {how}" if how else ""

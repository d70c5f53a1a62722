"""Compiles the texts of a rules folder (catalogue, policy rules, application calls) strictly, with file:line errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rapidfuzz import process

from bot.engine import conditions as c
from bot.engine.answers import parse_answer
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
    Question,
    Reward,
    Rule,
    RuleSet,
)
from bot.engine.parsing import Invalid, parse_money
from bot.engine.regions import RegionIndex
from bot.engine.textnorm import clean_document
from bot.engine.yamlsource import Mapping, Sequence, SourceError, SourceErrors, SourceFile, parse_yaml

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
REQUIRED_RULE_KEYS = ("id", "title", "clause", "quote", "reward")
REWARD_KEYS = {"kind", "cap", "min", "per_variety", "formula", "note", "note_en"}
DEADLINE_KEYS = {"date", "label", "label_en", "opens"}
DOCUMENT_KEYS = {"id", "title", "file", "region", "issuer", "published", "note"}
CALL_KEYS = {"id", "title", "rules", "opens", "closes", "where", "contact", "note"}
QUESTION_KEYS = {"fact", "type", "label", "text", "help", "options"}
OPTION_KEYS = {"value", "labels", "synonyms"}
COMPARISON_OPS = tuple(c.COMPARISONS)
FIRST_OPS = {f"first_{op}": op for op in COMPARISON_OPS}


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

    def __init__(self, path: str):
        self.path = path
        self.errors: list[SourceError] = []

    def error(self, line: int, message: str) -> None:
        error = SourceError(self.path, line, message)
        if error not in self.errors:  # two checks reaching the same problem report it once
            self.errors.append(error)

    def require_mapping(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, Mapping):
            return True
        self.error(line, f"{what} must be a mapping (key: value lines)")
        return False

    def check_keys(self, mapping: Mapping, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(mapping.line_of(key), f"unknown key '{key}' in {what}{_did_you_mean(key, allowed)}")

    def text(self, mapping: Mapping, key: str, what: str, required: bool = True) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.error(mapping.line, f"{what} needs '{key}'")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(mapping.line_of(key), f"'{key}' must be text")
            return None
        return value.strip()

    def date(self, mapping: Mapping, key: str) -> date | None:
        value = mapping.get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(mapping.line_of(key), f"'{key}' is not a date: '{value}' (write YYYY-MM-DD)")
            return None

    def done(self) -> None:
        if self.errors:
            raise SourceErrors(self.errors)


def _did_you_mean(word: str, choices: Any) -> str:
    best = process.extractOne(str(word), list(choices), score_cutoff=70)
    return f" (did you mean '{best[0]}'?)" if best else ""


def _texts(col: _Collector, mapping: Mapping, key: str, what: str) -> dict[str, str]:
    value = mapping.get(key)
    if value is None:
        col.error(mapping.line, f"{what} needs '{key}'")
        return {}
    if isinstance(value, str):
        return _with_traditional({"zh-Hans": value})
    if not col.require_mapping(value, mapping.line_of(key), f"'{key}'"):
        return {}
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            col.error(value.line_of(lang), f"unknown language '{lang}' (use {', '.join(LANGUAGES)})")
        elif not isinstance(text, str) or not text.strip():
            col.error(value.line_of(lang), f"'{lang}' text must not be empty")
        else:
            texts[lang] = text.strip()
    if "zh-Hans" not in texts:
        col.error(value.line, f"'{key}' needs a zh-Hans text")
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


def _check_identifier(col: _Collector, value: str, line: int, what: str, limit: int) -> None:
    if not IDENTIFIER.fullmatch(value):
        col.error(line, f"{what} '{value}' may use only a-z, 0-9, '_' and '-' (starting with a letter or digit)")
    elif len(value.encode()) > limit:
        col.error(line, f"{what} '{value}' is too long (at most {limit} characters; it travels in button data)")


def _translated(col: _Collector, mapping: Mapping, key: str) -> dict[str, str] | None:
    """Text an admin wrote under `key` (Chinese, as in the source) and its English under `key`_en, if given."""
    texts: dict[str, str] = {}
    for name, language in ((key, "zh-Hans"), (f"{key}_en", "en")):
        value = mapping.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            col.error(mapping.line_of(name), f"'{name}' must be text")
        else:
            texts[language] = value.strip()
    if "en" in texts and "zh-Hans" not in texts:
        col.error(mapping.line_of(f"{key}_en"), f"'{key}_en' translates '{key}', which is missing")
    return texts or None


def load_catalogue(source: SourceFile) -> Catalogue:
    """Compiles the question catalogue; every problem is reported with its line."""
    data = parse_yaml(source)
    col = _Collector(source.path)
    questions: dict[str, Question] = {}
    items = data.get("questions") if isinstance(data, Mapping) else None
    if not isinstance(items, Sequence):
        col.error(getattr(data, "line", 1), "the catalogue needs a 'questions:' list")
        col.done()
    for index, item in enumerate(items):
        if not col.require_mapping(item, items.line_of(index), "a question"):
            continue
        col.check_keys(item, QUESTION_KEYS, "a question")
        fact = col.text(item, "fact", "a question")
        kind = col.text(item, "type", "a question")
        if fact is None or kind is None:
            continue
        if fact in questions:
            col.error(item.line_of("fact"), f"fact '{fact}' is defined twice")
        _check_identifier(col, fact, item.line_of("fact"), "fact", MAX_FACT_AND_OPTION_BYTES)
        if kind not in FACT_TYPES:
            col.error(item.line_of("type"), f"unknown type '{kind}' (use {', '.join(FACT_TYPES)})")
        options = _options(col, item, kind)
        longest = max((len(o.value.encode()) for o in options), default=0)
        if len(fact.encode()) + longest > MAX_FACT_AND_OPTION_BYTES:
            col.error(item.line_of("fact"), f"fact '{fact}' and its longest option value are too long for button data")
        questions[fact] = Question(
            fact=fact,
            type=kind,
            label=_texts(col, item, "label", f"question '{fact}'"),
            text=_texts(col, item, "text", f"question '{fact}'"),
            help=_texts(col, item, "help", f"question '{fact}'"),
            options=options,
            order=index,
        )
    col.done()
    return Catalogue(questions)


def _options(col: _Collector, item: Mapping, kind: str) -> tuple[ChoiceOption, ...]:
    raw = item.get("options")
    if kind not in ("choice", "multi_choice"):
        if raw is not None:
            col.error(item.line_of("options"), f"a {kind} question takes no options")
        return ()
    if not isinstance(raw, Sequence) or not raw:
        col.error(item.line_of("options") if raw is not None else item.line, f"a {kind} question needs options")
        return ()
    options, seen = [], set()
    for index, entry in enumerate(raw):
        if not col.require_mapping(entry, raw.line_of(index), "an option"):
            continue
        col.check_keys(entry, OPTION_KEYS, "an option")
        value = col.text(entry, "value", "an option")
        if value is None:
            continue
        if value in seen:
            col.error(entry.line_of("value"), f"option '{value}' is listed twice")
        _check_identifier(col, value, entry.line_of("value"), "option value", MAX_FACT_AND_OPTION_BYTES)
        seen.add(value)
        synonyms = entry.get("synonyms") or []
        if not isinstance(synonyms, list):
            col.error(entry.line_of("synonyms"), "'synonyms' must be a list")
            synonyms = []
        labels = _texts(col, entry, "labels", f"option '{value}'")
        options.append(ChoiceOption(value, labels, tuple(str(s) for s in synonyms)))
    return tuple(options)


def load_document(meta: SourceFile, texts: dict[str, SourceFile]) -> Document:
    """Compiles one policy metadata file with the source text it names."""
    data = parse_yaml(meta)
    col = _Collector(meta.path)
    if not col.require_mapping(data, 1, "a document metadata file"):
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
            col.error(data.line_of("file"), f"source document '{file}' is missing (it belongs beside {meta.path})")
        else:
            text = clean_document(source.text)
    col.done()
    return Document(doc_id, title, file, region, data.get("issuer"), published, text)


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
            errors.append(SourceError(meta.path, 1, f"document id '{doc.id}' is used twice"))
        documents[doc.id] = doc
    if errors:
        raise SourceErrors(errors)
    return documents


class _RuleCompiler:
    """Checks one policy rule file against the catalogue and compiles its conditions."""

    def __init__(self, col: _Collector, catalogue: Catalogue, regions: RegionIndex):
        self.col, self.catalogue, self.regions = col, catalogue, regions

    def question(self, mapping: Mapping, key: str = "fact") -> Question | None:
        fact = mapping.get(key)
        if not isinstance(fact, str):
            self.col.error(mapping.line_of(key), f"'{key}' must name a fact")
            return None
        if fact not in self.catalogue:
            hint = _did_you_mean(fact, self.catalogue.questions)
            self.col.error(mapping.line_of(key), f"unknown fact '{fact}'{hint}")
            return None
        return self.catalogue[fact]

    def value(self, question: Question, raw: Any, line: int) -> Any:
        result = parse_answer(question, raw, self.regions)
        if isinstance(result, Invalid):
            self.col.error(line, f"bad value '{_short(raw)}' for {question.fact}: {_problem(result)}")
            return None
        return result.value

    def condition(self, raw: Any, line: int) -> c.Condition | None:
        if not self.col.require_mapping(raw, line, "a condition"):
            return None
        label = _translated(self.col, raw, "label")
        keys = set(raw) - {"label", "label_en"}
        for group, cls in (("all", c.AllOf), ("any", c.AnyOf)):
            if group in keys:
                return self._group(raw, group, cls, keys, label)
        if "not" in keys:
            if keys != {"not"}:
                self.col.error(raw.line, "'not' stands alone with one condition under it")
            part = self.condition(raw["not"], raw.line_of("not"))
            return c.Not(part, label) if part else None
        if "fact" not in keys:
            self.col.error(raw.line, f"a condition needs 'fact', 'all', 'any' or 'not' (found: {', '.join(keys)})")
            return None
        return self._fact_condition(raw, keys - {"fact"}, label)

    def _group(self, raw: Mapping, group: str, cls: type, keys: set[str], label: dict | None) -> c.Condition | None:
        if keys != {group}:
            self.col.error(raw.line, f"'{group}' stands alone with its list of conditions (found: {', '.join(keys)})")
        items = raw[group]
        if not isinstance(items, Sequence) or not items:
            self.col.error(raw.line_of(group), f"'{group}' needs a non-empty list of conditions")
            return None
        parts = [self.condition(item, items.line_of(i)) for i, item in enumerate(items)]
        if any(p is None for p in parts):
            return None
        return cls(parts, label)

    def _fact_condition(self, raw: Mapping, ops: set[str], label: dict | None) -> c.Condition | None:
        question = self.question(raw)
        if question is None:
            return None
        if len(ops - {"previous"}) != 1:
            self.col.error(raw.line, f"a condition on '{question.fact}' needs exactly one test, found: {sorted(ops)}")
            return None
        op = next(iter(ops - {"previous"}))
        line = raw.line_of(op)
        if op in COMPARISON_OPS or op in FIRST_OPS:
            return self._numeric(raw, question, op, line, label)
        if op in ("contains", "contains_any"):
            return self._contains(raw, question, op, line, label)
        if op == "is":
            if question.type not in ("bool", "choice"):
                self.col.error(line, f"'is' needs a yes/no or choice fact; '{question.fact}' is {question.type}")
                return None
            value = self.value(question, raw[op], line)
            return None if value is None else c.Equals(question, value, label)
        known = [*COMPARISON_OPS, *FIRST_OPS, "contains", "contains_any", "is"]
        self.col.error(line, f"unknown test '{op}'{_did_you_mean(op, known)}")
        return None

    def _numeric(self, raw: Mapping, question: Question, op: str, line: int, label: dict | None) -> c.Condition | None:
        if question.type not in NUMERIC_TYPES:
            self.col.error(line, f"'{op}' compares numbers; '{question.fact}' is {question.type}")
            return None
        threshold = self.value(question, raw[op], line)
        if threshold is None:
            return None
        if op in FIRST_OPS:
            previous = self.question(raw, "previous") if "previous" in raw else None
            if previous is None:
                if "previous" not in raw:
                    self.col.error(line, f"'{op}' needs 'previous: <last year's fact>'")
                return None
            return c.FirstCrossing(question, previous, FIRST_OPS[op], threshold, label)
        if "previous" in raw:
            self.col.error(raw.line_of("previous"), "'previous' goes only with first_more_than/first_at_least")
        return c.Compare(question, op, threshold, label)

    def _contains(self, raw: Mapping, question: Question, op: str, line: int, label: dict | None) -> c.Condition | None:
        if question.type != "multi_choice":
            self.col.error(line, f"'{op}' needs a multi-choice fact; '{question.fact}' is {question.type}")
            return None
        wanted = raw[op] if op == "contains_any" else [raw[op]]
        if not isinstance(wanted, list) or not wanted:
            self.col.error(line, f"'{op}' needs a list of option values")
            return None
        values = []
        for value in wanted:
            if question.option(str(value)) is None:
                allowed = [o.value for o in question.options]
                self.col.error(line, f"'{value}' is not an option of {question.fact}{_did_you_mean(value, allowed)}")
                return None
            values.append(str(value))
        return c.Contains(question, tuple(values), label)

    def region(self, raw: Any, line: int) -> str | None:
        if not isinstance(raw, str):
            self.col.error(line, "'region' must name a region, e.g. 吉林省")
            return None
        return self.value(self.catalogue["region"], raw, line)

    def amount(self, mapping: Mapping, key: str) -> int | None:
        raw = mapping.get(key)
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return raw
        result = parse_money(str(raw))
        if isinstance(result, Invalid):
            self.col.error(
                mapping.line_of(key), f"'{key}' is not an amount: '{_short(raw)}' (write e.g. 200万, 1.5亿 or 2000000)"
            )
            return None
        return result.value

    def reward(self, raw: Any, line: int) -> Reward | None:
        if not self.col.require_mapping(raw, line, "'reward'"):
            return None
        self.col.check_keys(raw, REWARD_KEYS, "'reward'")
        kind = self.col.text(raw, "kind", "'reward'")
        if kind is not None and kind not in REWARD_KINDS:
            self.col.error(raw.line_of("kind"), f"unknown reward kind '{kind}' (use {', '.join(REWARD_KINDS)})")
        cap, minimum = self.amount(raw, "cap"), self.amount(raw, "min")
        if minimum is not None and cap is not None and minimum > cap:
            self.col.error(raw.line_of("min"), "'min' is larger than 'cap'")
        if minimum is not None and cap is None:
            self.col.error(raw.line_of("min"), "a range needs both 'min' and 'cap'")
        if kind in ("tax_measure", "non_cash") and (cap is not None or minimum is not None):
            self.col.error(raw.line, f"a {kind} reward carries no amount")
        formula = self._formula(raw)
        per_variety = raw.get("per_variety", False)
        if not isinstance(per_variety, bool):
            self.col.error(raw.line_of("per_variety"), "'per_variety' must be true or false")
        return Reward(kind or "", cap, minimum, bool(per_variety), formula, _translated(self.col, raw, "note"))

    def _formula(self, raw: Mapping) -> tuple[str | Decimal, ...]:
        formula = raw.get("formula")
        if formula is None:
            return ()
        line = raw.line_of("formula")
        if (
            not isinstance(formula, Mapping)
            or set(formula) != {"multiply"}
            or not isinstance(formula["multiply"], list)
        ):
            self.col.error(line, "'formula' takes 'multiply: [fact or number, ...]'")
            return ()
        factors: list[str | Decimal] = []
        for factor in formula["multiply"]:
            if isinstance(factor, bool) or not isinstance(factor, str | int | float):
                self.col.error(line, f"bad factor '{factor}' in formula")
            elif isinstance(factor, str):
                if factor not in self.catalogue or self.catalogue[factor].type not in NUMERIC_TYPES:
                    self.col.error(line, f"formula factor '{factor}' is not a numeric fact")
                factors.append(factor)
            else:
                factors.append(Decimal(str(factor)))
        return tuple(factors)

    def deadlines(self, raw: Any, line: int) -> tuple[Deadline, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Sequence):
            self.col.error(line, "'deadlines' must be a list of {date, label}")
            return ()
        found = []
        for index, entry in enumerate(raw):
            if not self.col.require_mapping(entry, raw.line_of(index), "a deadline"):
                continue
            self.col.check_keys(entry, DEADLINE_KEYS, "a deadline")
            when = self.col.date(entry, "date")
            label = _translated(self.col, entry, "label")
            if when is None and "date" not in entry:
                self.col.error(entry.line, "a deadline needs 'date'")
            if label is None:
                self.col.error(entry.line, "a deadline needs 'label' (what happens on that date)")
            if when and label:
                found.append(Deadline(when, label, self.col.date(entry, "opens")))
        return tuple(found)


def _without_whitespace(text: str) -> str:
    return "".join(text.split())


@lru_cache(maxsize=64)
def _searchable(document_text: str) -> str:
    return _without_whitespace(document_text)


def quote_occurs(quote: str, document: Document) -> bool:
    """True when the quote is in the cleaned source; line breaks the publisher put inside a sentence are ignored."""
    return _without_whitespace(quote) in _searchable(document.text)


def load_policy_file(
    source: SourceFile, catalogue: Catalogue, documents: dict[str, Document], regions: RegionIndex
) -> list[Rule]:
    """Compiles one rule file (one per source document); quotes are checked against the document text."""
    data = parse_yaml(source)
    col = _Collector(source.path)
    if not col.require_mapping(data, 1, "a rule file"):
        col.done()
    col.check_keys(data, {"document", "rules"}, "a rule file")
    doc_id = data.get("document")
    document = documents.get(doc_id) if isinstance(doc_id, str) else None
    if document is None:
        known = ", ".join(sorted(documents))
        col.error(data.line_of("document"), f"unknown document '{doc_id}' (known: {known})")
    items = data.get("rules")
    if not isinstance(items, Sequence):
        col.error(data.line_of("rules"), "a rule file needs a 'rules:' list")
        col.done()
    compiler = _RuleCompiler(col, catalogue, regions)
    rules = []
    for index, item in enumerate(items):
        rule = _compile_rule(compiler, item, items.line_of(index), document, source.path)
        if rule is not None:
            rules.append(rule)
    col.done()
    return rules


def _compile_rule(compiler: _RuleCompiler, item: Any, line: int, document: Document | None, path: str) -> Rule | None:
    col = compiler.col
    if not col.require_mapping(item, line, "a rule"):
        return None
    col.check_keys(item, RULE_KEYS, "a rule")
    for key in REQUIRED_RULE_KEYS:
        if key not in item:
            col.error(item.line, f"a rule needs '{key}'")
    rule_id = col.text(item, "id", "a rule")
    if rule_id:
        _check_identifier(col, rule_id, item.line_of("id"), "rule id", MAX_RULE_ID_BYTES)
    quote = col.text(item, "quote", "a rule")
    if document is not None and quote and not quote_occurs(quote, document):
        col.error(item.line_of("quote"), f"quote of rule '{rule_id}' does not occur verbatim in {document.file}")
    region = compiler.region(item.get("region", document.region if document else None), item.line_of("region"))
    condition = compiler.condition(item["when"], item.line_of("when")) if "when" in item else None
    reward = compiler.reward(item.get("reward"), item.line_of("reward")) if "reward" in item else None
    materials = item.get("materials") or []
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials):
        col.error(item.line_of("materials"), "'materials' must be a list of texts")
        materials = []
    deadlines = compiler.deadlines(item.get("deadlines"), item.line_of("deadlines"))
    valid_from, valid_until = col.date(item, "valid_from"), col.date(item, "valid_until")
    if valid_from and valid_until and valid_from > valid_until:
        col.error(item.line_of("valid_until"), "'valid_until' is before 'valid_from'")
    department = item.get("department")
    if department is not None and not isinstance(department, str):
        col.error(item.line_of("department"), "'department' must be text (or null when the source names none)")
    title, clause = col.text(item, "title", "a rule"), col.text(item, "clause", "a rule")
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
    )


def load_calls(files: Iterable[SourceFile], rule_ids: set[str] | None) -> list[ApplicationCall]:
    """Compiles application calls; a call whose file name starts with 'example' is marked as an example."""
    calls: list[ApplicationCall] = []
    errors: list[SourceError] = []
    for source in files:
        try:
            calls.extend(_load_call_file(source, rule_ids))
        except SourceErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise SourceErrors(errors)
    return calls


def _load_call_file(source: SourceFile, rule_ids: set[str] | None) -> list[ApplicationCall]:
    data = parse_yaml(source)
    col = _Collector(source.path)
    if not col.require_mapping(data, 1, "a call file"):
        col.done()
    col.check_keys(data, {"example", "calls"}, "a call file")
    example = data.get("example", False)
    if source.path.replace("\\", "/").rsplit("/", 1)[-1].startswith("example") != bool(example):
        col.error(data.line_of("example"), "an example call file is named example-*.yaml and says 'example: true'")
    items = data.get("calls")
    if not isinstance(items, Sequence):
        col.error(data.line_of("calls"), "a call file needs a 'calls:' list")
        col.done()
    calls = []
    for index, item in enumerate(items):
        if not col.require_mapping(item, items.line_of(index), "a call"):
            continue
        col.check_keys(item, CALL_KEYS, "a call")
        call_id, title = col.text(item, "id", "a call"), col.text(item, "title", "a call")
        opens, closes = col.date(item, "opens"), col.date(item, "closes")
        if closes is None and "closes" not in item:
            col.error(item.line, "a call needs 'closes'")
        if opens and closes and opens > closes:
            col.error(item.line_of("closes"), "'closes' is before 'opens'")
        covered = item.get("rules")
        if not isinstance(covered, list) or not covered:
            col.error(item.line_of("rules"), "a call needs 'rules: [rule id, ...]'")
            continue
        for rule_id in covered:
            if rule_ids is not None and rule_id not in rule_ids:
                col.error(item.line_of("rules"), f"unknown rule '{rule_id}'{_did_you_mean(rule_id, rule_ids)}")
        if call_id and title and closes:
            calls.append(
                ApplicationCall(
                    call_id,
                    title,
                    tuple(covered),
                    closes,
                    opens,
                    item.get("where"),
                    bool(example),
                    source.path,
                    item.get("contact"),
                )
            )
    col.done()
    return calls


def load_ruleset(sources: RuleSources, regions: RegionIndex) -> RuleSet:
    """Compiles and checks everything; raises SourceErrors listing every problem, so bad files never load."""
    errors: list[SourceError] = list(sources.unreadable)
    if sources.catalogue is None:
        raise SourceErrors(errors or [SourceError(CATALOGUE_FILE, 0, "the question catalogue is missing")])
    catalogue = load_catalogue(sources.catalogue)
    documents = load_documents(sources.documents, sources.document_texts)
    rules: list[Rule] = []
    for source in sources.policies:
        try:
            rules.extend(load_policy_file(source, catalogue, documents, regions))
        except SourceErrors as exc:
            errors.extend(exc.errors)
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            first = seen[rule.id]
            errors.append(
                SourceError(
                    rule.path,
                    rule.line,
                    f"rule id '{rule.id}' is used twice (also {first.path}:{first.line})",
                )
            )
        seen[rule.id] = rule
    try:
        # With a policy file refused, its rule ids are unknown: checking call references would only echo that.
        calls = load_calls(sources.calls, None if errors else set(seen))
    except SourceErrors as exc:
        errors.extend(exc.errors)
        calls = []
    if errors:
        raise SourceErrors(errors)
    return RuleSet(catalogue, documents, tuple(rules), tuple(calls))


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

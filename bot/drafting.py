"""`incentive-bot rules extract`: a policy document read into a draft rule file for an admin to complete."""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from bot.engine.extract import (
    NO_AMOUNT,
    NO_RECIPIENT,
    Choice,
    DraftReward,
    DraftRule,
    Extraction,
    Flag,
    Threshold,
    extract_rules,
)
from bot.engine.loader import CATALOGUE_FILE, load_catalogue
from bot.engine.model import Catalogue
from bot.engine.ruletests import as_written
from bot.engine.yamlsource import Mapping, SourceErrors, parse_yaml
from bot.loading import MAX_DOCUMENT_BYTES, MAX_RULE_FILE_BYTES, display_path, read_text_file
from bot.paths import shipped_rules_dir

EXIT_OK, EXIT_RULES, EXIT_USAGE = 0, 1, 2

DRAFT_NOTE = "草稿:由 rules extract 从原文读出,条件、奖励种类和金额尚待管理员核对补全。"
DRAFT_NOTE_EN = "Draft read from the source by rules extract; an admin has yet to check and complete it."
REASONS = {NO_AMOUNT: "no amount stated", NO_RECIPIENT: "an amount, but granted to no one"}
_MAX_ID_PREFIX = 40  # rule ids are at most 60 bytes; "-draft-NN" follows


@dataclass(frozen=True)
class SourceInfo:
    """What the draft says about its source: the file as given, and what its metadata file beside it holds."""

    path: str
    document_id: str
    region: str | None
    metadata: str | None  # the metadata file, when there is one


def add_parser(rules_commands: argparse._SubParsersAction) -> None:
    """Adds `extract` to the `rules` subcommands."""
    extract = rules_commands.add_parser(
        "extract", help="read a policy document (UTF-8 text) into a draft rule file for an admin to complete"
    )
    extract.add_argument("file", type=Path, help="the policy document, e.g. data/policies/000_12443dada89050d6.txt")
    extract.add_argument("-o", "--output", type=Path, default=None, help="write the draft here (default: stdout)")
    extract.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    extract.add_argument(
        "--rules", type=Path, default=None, help="rules folder whose questions.yaml names the facts (default: shipped)"
    )


def run_extract(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Writes the draft (to stdout or -o) and a summary with every sentence it could not read to stderr."""
    try:
        source = read_text_file(args.file, MAX_DOCUMENT_BYTES)
    except SourceErrors as exc:
        print(f"error: cannot read policy document: {exc.errors[0]}", file=err)
        return EXIT_USAGE
    catalogue = _catalogue(args.rules, err)
    if catalogue is None:
        return EXIT_RULES
    if args.output is not None and args.output.exists() and not args.force:
        print(f"error: {display_path(args.output)} already exists; choose another name or add --force", file=err)
        return EXIT_USAGE
    info = source_info(args.file, source.path)
    extraction = extract_rules(source.text, catalogue)
    draft = draft_rule_file(extraction, info)
    if args.output is None:
        print(draft, end="", file=out)
    else:
        try:
            args.output.write_text(draft, encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {display_path(args.output)}: {exc.strerror}", file=err)
            return EXIT_USAGE
    for line in summary(extraction, info, args.output):
        print(line, file=err)
    return EXIT_OK


def _catalogue(rules_dir: Path | None, err: TextIO) -> Catalogue | None:
    try:
        folder = rules_dir if rules_dir is not None else shipped_rules_dir()
        return load_catalogue(read_text_file(folder / CATALOGUE_FILE, MAX_RULE_FILE_BYTES))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=err)
    except SourceErrors as exc:
        print(f"error: cannot read the question catalogue: {exc.errors[0]}", file=err)
    return None


def source_info(path: Path, shown: str) -> SourceInfo:
    """The document id and region from the metadata file beside the document (same name, .yaml), if it has one."""
    metadata = Path(path).with_suffix(".yaml")
    fallback = SourceInfo(shown, _identifier(Path(path).stem), None, None)
    if not metadata.is_file():
        return fallback
    try:
        data = parse_yaml(read_text_file(metadata, MAX_RULE_FILE_BYTES))
    except SourceErrors:
        return fallback
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
        return fallback
    region = data.get("region") if isinstance(data.get("region"), str) else None
    return SourceInfo(shown, data["id"], region, display_path(metadata))


def _identifier(text: str) -> str:
    """Text made into the start of a rule id: lower-case letters, digits, "-" and "_"."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:_MAX_ID_PREFIX] or "document"


# --- the draft file ------------------------------------------------------------------------------------------


def draft_rule_file(extraction: Extraction, info: SourceInfo) -> str:
    """The draft rule file: every reward read as a rule marked as a draft, and what could not be read as comments."""
    lines = _header(extraction, info)
    lines.append(f"document: {_text(info.document_id)}")
    lines.append("")
    if not extraction.rules:
        lines.extend(["rules: []", ""])
    else:
        lines.append("rules:")
        prefix = _identifier(info.document_id)
        for number, rule in enumerate(extraction.rules, 1):
            lines.extend(_rule(rule, f"{prefix}-draft-{number:02d}", info.region))
            lines.append("")
    lines.extend(_unread_comments(extraction))
    return "\n".join(lines).rstrip("\n") + "\n"


def _header(extraction: Extraction, info: SourceInfo) -> list[str]:
    lines = [
        f"# DRAFT rules read by `incentive-bot rules extract` from {info.path}.",
        "# Every rule is marked as a draft (note). Check each against its quote: the conditions it could read,",
        "# the ones it could not (in the comments above each 'when'), the reward kind and the amounts. Then write",
        "# the rule tests (rules/tests/), remove the draft notes and give the rules ids that say what they are.",
        f"# Read: {len(extraction.rules)} reward(s); {len(extraction.unread)} sentence(s) that speak of a reward "
        "could not be read (listed at the end).",
    ]
    if info.metadata is None:
        lines.append(
            "# The document has no metadata file beside it: write one (id, title, file, region; see data/policies/)"
        )
        lines.append("# and put its id under 'document'.")
    if extraction.appended_from is not None:
        lines.append(
            f"# Left out: the text from line {extraction.appended_from} ({_one_line(extraction.appended_title)}) "
            "follows the policy but is not part of it."
        )
    if extraction.broken_lines:
        shown = ", ".join(str(n) for n in extraction.broken_lines)
        lines.append(f"# Lines {shown} still hold broken-encoding fragments ('?') after the clean-up.")
    lines.append("")
    return lines


def _rule(rule: DraftRule, rule_id: str, region: str | None) -> list[str]:
    lines = [
        f"  - id: {rule_id}",
        f"    title: {_text(rule.title)}",
        f"    clause: {_text(rule.clause or '未编号')}",
        f"    quote: {_text(rule.quote)}",
    ]
    if region:
        lines.append(f"    region: {_text(region)}")
    lines.append(f"    # line {rule.line}; for: {_one_line(rule.subject)}")
    for part in rule.unmapped:
        lines.append(f"    # not read as a condition: {_one_line(part)}")
    readable = [c for c in rule.conditions if not isinstance(c, Threshold) or (c.fact and c.test)]
    for condition in rule.conditions:
        if isinstance(condition, Threshold) and condition not in readable:
            lines.append(f"    # not read as a condition: {_one_line(condition.phrase)} ({_why_unread(condition)})")
    lines.extend(_when(readable))
    lines.extend(_reward(rule.reward))
    lines.append("    department: null")
    lines.append(f"    note: {_text(DRAFT_NOTE)}")
    lines.append(f"    note_en: {_text(DRAFT_NOTE_EN)}")
    return lines


def _why_unread(threshold: Threshold) -> str:
    if threshold.fact is None:
        return "no fact of the catalogue for these words"
    if threshold.first and threshold.previous is None:
        return "首次 needs last year's figure, and no fact of the catalogue holds it"
    return "no word such as 以上 or 超过 says whether the amount itself counts"


def _when(conditions: list[Threshold | Choice | Flag]) -> list[str]:
    if not conditions:
        return ["    # when: no condition could be read; write it from the sentence"]
    if len(conditions) == 1:
        single = _condition(conditions[0])
        if len(single) == 1:
            return [f"    when: {single[0]}"]
        return ["    when:", *(f"      {line}" for line in single)]
    lines = ["    when:", "      all:"]
    for condition in conditions:
        block = _condition(condition)
        lines.append(f"        - {block[0]}")
        lines.extend(f"          {line}" for line in block[1:])
    return lines


def _condition(condition: Threshold | Choice | Flag) -> list[str]:
    """A condition as YAML lines: one flow mapping, or an any-block for a list of thresholds."""
    if isinstance(condition, Flag):
        return [f"{{fact: {condition.fact}, is: true}}"]
    if isinstance(condition, Choice):
        if len(condition.values) == 1:
            return [f"{{fact: {condition.fact}, contains: {condition.values[0]}}}"]
        return [f"{{fact: {condition.fact}, contains_any: [{', '.join(condition.values)}]}}"]
    tests = [_threshold_test(condition, value) for value in condition.values]
    if len(tests) == 1:
        return tests
    return ["any:", *(f"  - {test}" for test in tests), f"label: {_text(condition.phrase)}"]


def _threshold_test(threshold: Threshold, value: int) -> str:
    previous = f", previous: {threshold.previous}" if threshold.previous else ""
    return f"{{fact: {threshold.fact}, {threshold.test}: {as_written(value)}{previous}}}"


def _reward(reward: DraftReward) -> list[str]:
    parts = [f"kind: {reward.kind}"]
    if reward.minimum is not None:
        parts.append(f"min: {as_written(reward.minimum)}")
    if reward.cap is not None:
        parts.append(f"cap: {as_written(reward.cap)}")
    if reward.per_variety:
        parts.append("per_variety: true")
    if reward.formula:
        factors = ", ".join(str(f) if isinstance(f, Decimal) else f for f in reward.formula)
        parts.append(f"formula: {{multiply: [{factors}]}}")
    lines = []
    if reward.minimum is not None and reward.minimum == reward.cap:
        lines.append("    # a fixed amount: the sentence has no 最高 and no range, so min and cap are the same")
    if reward.tiers:
        amounts = "、".join(as_written(t) for t in reward.tiers)
        lines.append(f"    # the sentence states several amounts ({amounts}); min and cap span them")
    if reward.basis and not reward.formula:
        lines.append(f"    # the amount is computed {_one_line(reward.basis)}; no formula could be made of it")
    if reward.cap is None:
        lines.append("    # no cap stated: the estimate is the formula alone")
    lines.append(f"    reward: {{{', '.join(parts)}}}")
    return lines


def _unread_comments(extraction: Extraction) -> list[str]:
    if not extraction.unread:
        return []
    lines = ["# Sentences that speak of a reward but could not be read as one; check whether they need a rule:"]
    for sentence in extraction.unread:
        clause = f", clause {sentence.clause}" if sentence.clause else ""
        reason = REASONS.get(sentence.reason, sentence.reason)
        lines.append(f"# - line {sentence.line}{clause} ({reason}): {_one_line(sentence.text)}")
    return lines


def _text(value: str) -> str:
    """A YAML scalar that stays text whatever it holds (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the summary -------------------------------------------------------------------------------------------


def summary(extraction: Extraction, info: SourceInfo, output: Path | None) -> list[str]:
    """What was read, for stderr: counts, where the draft went, and every sentence not read as file:line."""
    kinds = Counter(rule.reward.kind for rule in extraction.rules)
    by_kind = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    levels = Counter(heading.level for heading in extraction.headings)
    inferred = sum(heading.inferred for heading in extraction.headings)
    where = display_path(output) if output is not None else "stdout"
    lines = [
        f"{info.path}: {len(extraction.rules)} reward(s) read" + (f" ({by_kind})" if by_kind else "") + f"; "
        f"{len(extraction.unread)} sentence(s) that speak of a reward not read; draft written to {where}.",
        f"{info.path}: structure: {levels[1]} section(s) 一、, {levels[2]} subsection(s) (一), "
        f"{levels[3]} numbered item(s)"
        + (f"; {inferred} heading(s) inferred where broken encoding lost the marker" if inferred else "")
        + ".",
    ]
    for sentence in extraction.unread:
        reason = REASONS.get(sentence.reason, sentence.reason)
        lines.append(f"{info.path}:{sentence.line}: not read ({reason}): {_excerpt(sentence.text)}")
    if extraction.appended_from is not None:
        lines.append(
            f"{info.path}:{extraction.appended_from}: left out from here: text after the policy "
            f"({_excerpt(extraction.appended_title)})"
        )
    if extraction.broken_lines:
        shown = ", ".join(str(n) for n in extraction.broken_lines)
        lines.append(f"{info.path}: lines {shown} still hold broken-encoding fragments after the clean-up.")
    return lines


def _excerpt(text: str, limit: int = 60) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[:limit] + "…"

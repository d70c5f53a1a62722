"""The engine is pure: it reads no files, keeps no state between rule sets, and two rule sets live side by side."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date
from pathlib import Path

from bot.engine.engine import Engine
from bot.engine.yamlsource import SourceFile
from bot.loading import read_sources

TODAY = date(2026, 11, 22)
ENGINE_DIR = Path(__file__).resolve().parents[2] / "bot" / "engine"


def reordered_and_richer() -> Engine:
    """The shipped rules with the question catalogue in reverse order and the clinical-trial reward raised."""
    sources = read_sources()
    catalogue = sources.catalogue.text
    head, _, body = catalogue.partition("questions:\n")
    blocks = body.split("\n  - fact: ")
    blocks = [blocks[0], *reversed(blocks[1:])]
    reversed_body = "\n  - fact: ".join(blocks).replace("\n\n  - fact: ", "\n  - fact: ")
    policies = tuple(
        SourceFile(
            f.path,
            f.text.replace("reward: {kind: cash_reward, cap: 200万}", "reward: {kind: cash_reward, cap: 300万}", 1),
        )
        if f.path.endswith("jilin-pharma.yaml")
        else f
        for f in sources.policies
    )
    changed = dataclasses.replace(
        sources, catalogue=SourceFile(sources.catalogue.path, head + "questions:\n" + reversed_body), policies=policies
    )
    return Engine.build(changed)


def test_two_rule_sets_in_one_process_give_independent_results(engine: Engine) -> None:
    other = reordered_and_richer()
    profile = {"region": "吉林省/长春市", "approvals": ["clinical_trial_permit"]}
    ours = engine.match(profile, TODAY)
    theirs = other.match(profile, TODAY)
    caps = [m.amount(m.result_for("jilin-1-clinical-trial")).max_yuan for m in (ours, theirs)]
    assert caps == [2_000_000, 3_000_000]
    # Missing facts come in each catalogue's own order, even after the other rule set was built.
    wide = {"region": "吉林省"}
    ours_missing = engine.match(wide, TODAY).result_for("jilin-2-new-drug-certificate").missing
    theirs_missing = other.match(wide, TODAY).result_for("jilin-2-new-drug-certificate").missing
    assert len(ours_missing) > 1 and tuple(reversed(ours_missing)) == theirs_missing
    assert engine.match(wide, TODAY).result_for("jilin-2-new-drug-certificate").missing == ours_missing


def test_the_engine_reads_no_files_and_calls_no_garbage_collector() -> None:
    forbidden_calls = {"open", "read_text", "read_bytes", "glob", "cwd", "collect", "freeze", "exists", "is_file"}
    for module in ENGINE_DIR.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"gc", "pathlib", "os", "io"} & set(names), f"{module.name} imports {names}"
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                assert called not in forbidden_calls, f"{module.name}:{node.lineno} calls {called}"

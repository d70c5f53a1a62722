"""`incentive-bot rules extract` as an admin uses it: a draft rule file that the strict loader reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import drafting
from bot.cli import main
from bot.engine.loader import load_catalogue, load_documents, load_policy_file, quote_occurs
from bot.engine.yamlsource import SourceFile, parse_yaml
from bot.loading import load_region_index, read_sources

ROOT = Path(__file__).resolve().parents[1]
JILIN = ROOT / "data" / "policies" / "000_12443dada89050d6.txt"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_jilin_draft_goes_to_stdout_and_the_summary_to_stderr(capsys) -> None:
    code, out, err = run(["rules", "extract", str(JILIN)], capsys)
    assert code == 0, err
    data = parse_yaml(SourceFile("draft.yaml", out))
    assert data["document"] == "jilin-pharma" and len(data["rules"]) == 19
    assert all(rule["note"].startswith("草稿") for rule in data["rules"])
    assert out.startswith("# DRAFT rules read by `incentive-bot rules extract`")
    assert "19 reward(s) read" in err and "2 sentence(s) that speak of a reward not read" in err
    # Every sentence not read is named on stderr (file:line) and kept in the draft as a comment.
    assert "000_12443dada89050d6.txt:57: not read (no amount stated): 通过项目带动、成果奖励" in err
    assert "# - line 57, clause 11 (no amount stated): 通过项目带动、成果奖励" in out
    assert "000_12443dada89050d6.txt:115: left out from here" in err


def test_the_jilin_draft_compiles_with_the_strict_loader_and_its_quotes_occur_verbatim(capsys) -> None:
    code, out, err = run(["rules", "extract", str(JILIN)], capsys)
    assert code == 0, err
    sources = read_sources()
    documents = load_documents(sources.documents, sources.document_texts)
    rules = load_policy_file(
        SourceFile("policies/draft.yaml", out), load_catalogue(sources.catalogue), documents, load_region_index()
    )
    assert len(rules) == 19
    assert all(quote_occurs(rule.quote, documents["jilin-pharma"]) for rule in rules)
    by_clause = {rule.clause: rule for rule in rules}
    assert by_clause["14"].reward.formula == ("loan_amount", "loan_rate")
    assert by_clause["18"].reward.cap == 1_000_000


def test_the_draft_lists_what_it_could_not_read_beside_the_rule(capsys) -> None:
    code, out, err = run(["rules", "extract", str(JILIN)], capsys)
    online = out[out.index("年度线上销售收入首次超过1亿元的医药流通企业奖励") :]
    assert "# not read as a condition: 通过网络平台销售、网上支付工具结算" in online[: online.index("reward:")]


def test_the_draft_is_written_to_a_file_that_is_not_overwritten_without_force(tmp_path: Path, capsys) -> None:
    target = tmp_path / "draft.yaml"
    code, out, err = run(["rules", "extract", str(JILIN), "-o", str(target)], capsys)
    assert code == 0 and out == ""
    assert parse_yaml(SourceFile(str(target), target.read_text(encoding="utf-8")))["document"] == "jilin-pharma"
    code, out, err = run(["rules", "extract", str(JILIN), "-o", str(target)], capsys)
    assert code == 2 and "already exists" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(["rules", "extract", str(JILIN), "-o", str(target), "--force"], capsys)
    assert code == 0


def test_a_document_without_metadata_gets_an_id_from_its_file_name(tmp_path: Path, capsys) -> None:
    copy = tmp_path / "Suzhou Policy 2024.txt"
    shutil.copy(JILIN, copy)
    code, out, err = run(["rules", "extract", str(copy)], capsys)
    assert code == 0, err
    data = parse_yaml(SourceFile("draft.yaml", out))
    assert data["document"] == "suzhou-policy-2024"
    assert data["rules"][0]["id"] == "suzhou-policy-2024-draft-01" and "region" not in data["rules"][0]
    assert "no metadata file beside it" in out


def test_a_document_with_no_reward_gives_an_empty_rule_list(tmp_path: Path, capsys) -> None:
    policy = tmp_path / "plan.txt"
    policy.write_text("一、总体要求\n加快建设产业园区。\n", encoding="utf-8")
    code, out, err = run(["rules", "extract", str(policy)], capsys)
    assert code == 0
    assert parse_yaml(SourceFile("draft.yaml", out))["rules"] == []
    assert "0 reward(s) read" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the file"),
        (b"\xff\xfe\x00policy", "not UTF-8"),
        (b"x" * 64, "bytes"),
    ],
)
def test_a_bad_document_exits_2_with_one_line_naming_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, content: bytes | None, message: str
) -> None:
    monkeypatch.setattr(drafting, "MAX_DOCUMENT_BYTES", 32)
    policy = tmp_path / "policy.txt"
    if content is not None:
        policy.write_bytes(content)
    code, out, err = run(["rules", "extract", str(policy)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "policy.txt" in err and message in err


def test_an_output_that_cannot_be_written_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    code, out, err = run(["rules", "extract", str(JILIN), "-o", str(tmp_path / "missing" / "draft.yaml")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write" in err

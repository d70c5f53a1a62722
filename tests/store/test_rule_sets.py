"""Every bot process on one database runs the same rule set: a reload in one is recorded, the others follow;
rule files admins send are stored for all of them and for every restart."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.loading import read_sources
from bot.messages import ChatKey
from bot.notices import LiveEngine
from bot.reloading import Reloader, check_rules, rules_at_start, sources_from_json, sources_to_json
from bot.store.base import ChatState, ChatStore
from bot.store.rulesets import KEPT_VERSIONS, NewVersion

pytestmark = pytest.mark.asyncio
TODAY = date(2026, 11, 28)  # after the Jilin rule tests' day (2026-11-22)
OLD_TITLE = "新取得临床试验许可或注册申请受理书的医药健康产品奖励"


async def process(store: ChatStore, rules: Path) -> Reloader:
    """What one bot process holds once started: the rules it read (with the uploads) and its reloader."""
    sources = read_sources(rules, None, await store.rule_uploads())
    reloader = Reloader(LiveEngine(Engine.build(sources), store), store, rules, None, lambda: TODAY)
    await reloader.start(sources, "start")
    return reloader


def title_of(reloader: Reloader, rule_id: str) -> str:
    return reloader.live().ruleset.rule(rule_id).title


async def test_a_version_is_switched_to_once_and_a_refusal_is_announced_once(store: ChatStore) -> None:
    first = NewVersion("aaaaaaaaaaaa", "telegram:1", "1 rule", {"x": 1})
    assert await store.active_rules() is None
    assert await store.activate_rules(first), "the first process to put it in use switches"
    assert not await store.activate_rules(first), "the next one finds it in use already"
    active = await store.active_rules()
    assert active is not None and active.version == "aaaaaaaaaaaa" and active.loaded_by == "telegram:1"
    assert await store.rule_files("aaaaaaaaaaaa") == {"x": 1}, "its files are kept for rules diff"
    assert await store.refuse_rules("bbbbbbbbbbbb") and not await store.refuse_rules("bbbbbbbbbbbb")
    assert (await store.active_rules()).version == "aaaaaaaaaaaa", "a refused version is never in use"
    assert await store.activate_rules(NewVersion("cccccccccccc", "file change", "", {}))
    assert await store.refuse_rules("bbbbbbbbbbbb"), "refused again after another version: told again"
    assert [v.version for v in await store.rule_versions()] == ["cccccccccccc", "aaaaaaaaaaaa"]


async def test_uploads_are_kept_replaced_and_removed(store: ChatStore) -> None:
    await store.save_rule_upload("policies/new.yaml", "rules: []", "telegram:1")
    await store.save_rule_upload("policies/new.yaml", "rules: [1]", "telegram:2")
    await store.save_rule_upload("calls/a.yaml", "calls: []", "telegram:1")
    assert await store.rule_uploads() == {"calls/a.yaml": "calls: []", "policies/new.yaml": "rules: [1]"}
    assert await store.remove_rule_upload("calls/a.yaml") and not await store.remove_rule_upload("calls/a.yaml")
    assert list(await store.rule_uploads()) == ["policies/new.yaml"]


async def test_two_processes_converge_on_the_version_one_of_them_reloads(
    open_store: Callable[[], ChatStore], rules_copy: Path
) -> None:
    one, two = await process(open_store(), rules_copy), await process(open_store(), rules_copy)
    started = one.live.base.version
    assert two.live.base.version == started
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    pharma.write_text(pharma.read_text(encoding="utf-8").replace(OLD_TITLE, "临床试验奖励(新)"), encoding="utf-8")
    checked = await one.reload("telegram:1")
    assert checked.engine is not None and checked.announce and checked.previous == started
    assert title_of(one, "jilin-1-clinical-trial") == "临床试验奖励(新)"
    assert title_of(two, "jilin-1-clinical-trial") == OLD_TITLE, "the other process has not looked yet"
    assert await two.follow(), "it sees the version in use and reads the same files"
    assert two.live.base.version == checked.version and title_of(two, "jilin-1-clinical-trial") == "临床试验奖励(新)"
    assert not await two.follow(), "nothing more to do"
    again = await two.reload("signal:2")
    assert again.engine is not None and not again.announce, "the same files reloaded elsewhere: announced once"


async def test_a_reload_with_a_broken_file_keeps_the_rules_in_use_and_records_the_next_good_files(
    store: ChatStore, rules_copy: Path
) -> None:
    one = await process(store, rules_copy)
    running, started = one.live.base, (await store.active_rules()).version
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    text = pharma.read_text(encoding="utf-8")
    pharma.write_text(text.replace("fact: revenue,", "fact: revenu,", 1), encoding="utf-8")
    refused = await one.reload("telegram:1")
    assert refused.engine is None and any("revenu" in str(problem) for problem in refused.problems)
    assert one.live.base is running, "the rules in use stay, the very same"
    assert (await store.active_rules()).version == started
    assert [v.version for v in await store.rule_versions()] == [started], "nothing recorded"
    pharma.write_text(text.replace(OLD_TITLE, "临床试验奖励(新)"), encoding="utf-8")
    applied = await one.reload("telegram:1")
    assert applied.engine is not None and one.live.base is applied.engine
    assert title_of(one, "jilin-1-clinical-trial") == "临床试验奖励(新)"
    assert (await store.active_rules()).version == applied.version
    recorded = await store.rule_files(applied.version)
    assert recorded == sources_to_json(read_sources(rules_copy)), "the files recorded are the ones checked"


async def test_a_process_whose_files_differ_keeps_its_rules(
    open_store: Callable[[], ChatStore], rules_copy: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(rules_copy, elsewhere)
    one, two = await process(open_store(), rules_copy), await process(open_store(), elsewhere)
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    pharma.write_text(pharma.read_text(encoding="utf-8").replace(OLD_TITLE, "临床试验奖励(新)"), encoding="utf-8")
    assert (await one.reload("telegram:1")).engine is not None
    assert not await two.follow(), "its own folder does not hold that version: it keeps what it runs"
    assert title_of(two, "jilin-1-clinical-trial") == OLD_TITLE


async def test_an_upload_is_checked_applied_everywhere_and_read_again_after_a_restart(
    open_store: Callable[[], ChatStore], rules_copy: Path
) -> None:
    one, two = await process(open_store(), rules_copy), await process(open_store(), rules_copy)
    pharma = (rules_copy / "policies" / "jilin-pharma.yaml").read_text(encoding="utf-8")
    broken = await one.upload("jilin-pharma.yaml", pharma.replace("fact: revenue,", "fact: revenu,", 1).encode(), "a")
    assert broken.engine is None and "policies/jilin-pharma.yaml (uploaded)" in str(broken.problems[0])
    assert await one.store.rule_uploads() == {}, "a refused file is not kept"
    for name, data, problem in [
        ("new policy!.yaml", b"rules: []", "rule file is named"),
        ("notes.txt", b"rules: []", "rule file is named"),
        ("x.yaml", b"\xff\xfe", "not UTF-8"),
        ("x.yaml", b"title: no list", "'rules:' list"),
        ("x.yaml", b"a: &a [1]\nb: [*a, *a, *a]\nrules: [", "x.yaml:"),
    ]:
        refused = await one.upload(name, data, "a")
        assert refused.engine is None and problem in str(refused.problems[0]), name
    assert title_of(one, "jilin-1-clinical-trial") == OLD_TITLE, "nothing changed"
    good = await one.upload("jilin-pharma.yaml", pharma.replace(OLD_TITLE, "临床试验奖励(上传)").encode(), "a")
    assert good.engine is not None and good.announce, good.problems
    assert list(await one.store.rule_uploads()) == ["policies/jilin-pharma.yaml"]
    assert title_of(one, "jilin-1-clinical-trial") == "临床试验奖励(上传)"
    assert await two.follow() and title_of(two, "jilin-1-clinical-trial") == "临床试验奖励(上传)"
    restarted = read_sources(rules_copy, None, await open_store().rule_uploads())
    assert Engine.build(restarted).ruleset.rule("jilin-1-clinical-trial").title == "临床试验奖励(上传)"
    actions = [(e.action, e.detail["applied"]) for e in await one.store.audit_log() if e.action == "upload"]
    assert actions[0] == ("upload", False) and actions[-1] == ("upload", True)


async def test_a_reload_counts_the_contacts_whose_results_changed(
    open_store: Callable[[], ChatStore], rules_copy: Path
) -> None:
    store = open_store()
    if not store.supports_notices:
        pytest.skip("only a database keeps the contacts a reload is compared over")
    for chat, industries in ((501, ["biologics"]), (502, ["medical_devices"])):
        state = ChatState(ChatKey("telegram", chat), answers={"region": "吉林省/长春市", "industries": industries,
                                                            "approvals": ["clinical_trial_permit"]})  # fmt: skip
        await store.save(state)
    one = await process(store, rules_copy)
    pharma = rules_copy / "policies" / "jilin-pharma.yaml"
    text = pharma.read_text(encoding="utf-8")
    # The listing-reserve measure ends after the rule tests' day but before the reload's: nobody may claim it now.
    pharma.write_text(text.replace("  - id: jilin-12-listing-reserve\n", "  - id: jilin-12-listing-reserve\n"
                                   "    valid_until: 2026-11-25\n", 1), encoding="utf-8")  # fmt: skip
    checked = await one.reload("telegram:1")
    assert checked.engine is not None, checked.problems
    changed = {str(change.chat): change for change in checked.changes}
    assert set(changed) == {"telegram:501", "telegram:502"}, "both could have joined the listing reserve"
    assert changed["telegram:501"].lost == ("jilin-12-listing-reserve",) and not changed["telegram:501"].gained
    assert await one.changes(checked.previous, checked.version) == checked.changes, "rebuilt from recorded files"


async def test_sources_survive_their_json_form(rules_copy: Path) -> None:
    sources = read_sources(rules_copy, None)
    again = sources_from_json(sources_to_json(sources))
    assert check_rules(rules_copy, None).version == Engine.build(again).version


async def test_the_newest_versions_and_the_one_in_use_are_kept(store: ChatStore) -> None:
    first = NewVersion("000000000000", "start", "", {"n": 0})
    await store.activate_rules(first)
    for n in range(1, KEPT_VERSIONS + 5):
        await store.activate_rules(NewVersion(f"{n:012d}", "file change", "", {"n": n}))
    if store.supports_notices:  # the database prunes; the memory store lives as long as a test
        assert len(await store.rule_versions(1000)) == KEPT_VERSIONS
        assert await store.rule_files("000000000000") is None, "the oldest went"
    assert await store.activate_rules(NewVersion("000000000001", "signal", "", {"n": 1}))
    assert await store.rule_files("000000000001") == {"n": 1}, "an old version put in use again is kept"


async def test_a_version_is_the_same_wherever_the_bot_runs_from(
    rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = check_rules(rules_copy, None).version
    monkeypatch.chdir(tmp_path)
    assert check_rules(rules_copy, None).version == here, "paths are shown relative to where it runs"
    elsewhere = tmp_path / "deployed" / "rules"
    shutil.copytree(rules_copy, elsewhere)
    assert check_rules(elsewhere, None).version == here, "the same files in another folder"


async def test_a_restart_runs_the_rules_in_use_when_the_files_no_longer_pass(
    open_store: Callable[[], ChatStore], rules_copy: Path
) -> None:
    running = await process(open_store(), rules_copy)
    # The folder changes under a stored upload: a deploy adds the rule id the upload also defines.
    pharma = (rules_copy / "policies" / "jilin-pharma.yaml").read_text(encoding="utf-8")
    await running.store.save_rule_upload("policies/jilin-extra.yaml", pharma, "telegram:1")
    engine, record = await rules_at_start(open_store(), rules_copy, None)
    assert record is None, "nothing that failed its checks is recorded as in use"
    assert engine.version == running.live.base.version, "the rules in use, rebuilt from their recorded files"
    await running.store.remove_rule_upload("policies/jilin-extra.yaml")
    engine, record = await rules_at_start(open_store(), rules_copy, None)
    assert record is not None and engine.version == running.live.base.version

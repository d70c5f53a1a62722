"""Interface texts in Simplified Chinese and English; Traditional Chinese is derived from the Simplified."""

from __future__ import annotations

from functools import lru_cache

import opencc

LANGUAGES = ("zh-Hans", "zh-Hant", "en")

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "zh-Hans": (
            "您好!我是奖励政策小助手。回答几个简短的问题,我会告诉您企业可以申请哪些政府奖励和补助、"
            "最高多少、依据哪条政策、向哪个部门申请、何时截止。\n\n"
            "结果只是根据您的回答作出的估算,是否给予及金额以主管部门审核为准。\n"
            "我只保存您的回答、界面语言和提醒设置,用于给出结果和提醒;发送 /forget 可随时全部删除。"
        ),
        "en": (
            "Hello! I tell enterprises which government incentives they may apply for: how much, under which "
            "clause, where to apply and by when. Answer a few short questions.\n\n"
            "Results are estimates from your answers; the authority decides.\n"
            "I keep only your answers, your language and your reminder setting; send /forget to delete them all."
        ),
    },
    "welcome_back": {
        "zh-Hans": "您之前的回答已保留,我们接着来。想从头开始请点“重新开始”。",
        "en": "Your earlier answers are kept; let's continue. Press “Start over” to begin again.",
    },
    "help": {
        "zh-Hans": (
            "我会问几个问题,只问能影响结果的。每个问题都可以点按钮,也可以直接打字回答"
            "(如“十二亿”“长春”“生物制药”),不清楚可以点“不清楚”跳过。\n\n"
            "/results 查看结果\n/deadlines 查看申报截止时间\n/profile 查看和修改回答\n"
            "/lang 切换语言\n/forget 删除我保存的全部信息\n/start 开始或继续"
        ),
        "en": (
            "I ask a few questions, only those that can change a result. Press a button or type an answer "
            "(e.g. 1.2 billion, Changchun, biologics); press “Not sure” to skip.\n\n"
            "/results your results\n/deadlines application deadlines\n/profile see and change your answers\n"
            "/lang change language\n/forget delete everything I keep about you\n/start start or continue"
        ),
    },
    "skip": {"zh-Hans": "不清楚", "en": "Not sure"},
    "done": {"zh-Hans": "完成", "en": "Done"},
    "yes": {"zh-Hans": "是", "en": "Yes"},
    "no": {"zh-Hans": "否", "en": "No"},
    "multi_hint": {"zh-Hans": "可多选,选好后点“完成”。", "en": "Choose all that apply, then press “Done”."},
    "text_hint": {"zh-Hans": "请直接输入回答。", "en": "Type your answer."},
    "not_understood": {"zh-Hans": "没看懂这个回答:{reason}。{hint}", "en": "I could not read that: {reason}. {hint}"},
    "all_done": {
        "zh-Hans": "问题都问完了,以下是结果。",
        "en": "That is all I need to ask; here are your results.",
    },
    "no_question": {
        "zh-Hans": "目前没有需要回答的问题。发送 /results 查看结果,/profile 修改回答。",
        "en": "There is no open question. Send /results for your results or /profile to change an answer.",
    },
    "results_title": {"zh-Hans": "结果(按 {day} 计算)", "en": "Results (as of {day})"},
    "eligible": {"zh-Hans": "✅ 可以申请({n} 项)", "en": "✅ You may apply for ({n})"},
    "none_eligible": {"zh-Hans": "暂未找到确定可以申请的奖励。", "en": "No reward is certain yet."},
    "possible": {"zh-Hans": "❔ 可能符合,还需补充({n} 项)", "en": "❔ Possibly eligible, more needed ({n})"},
    "near": {"zh-Hans": "➖ 差一点就符合({n} 项)", "en": "➖ Narrowly missed ({n})"},
    "still_unknown": {"zh-Hans": "还需知道:{facts}", "en": "Still unknown: {facts}"},
    "reasons": {"zh-Hans": "符合:{reasons}", "en": "Met: {reasons}"},
    "department": {"zh-Hans": "受理部门:{department}", "en": "Department: {department}"},
    "no_department": {
        "zh-Hans": "原文未写明,请咨询当地主管部门",
        "en": "not named in the source; ask the local authority",
    },
    "when": {"zh-Hans": "申报时间:{when}", "en": "When: {when}"},
    "basis": {"zh-Hans": "依据:{citation}", "en": "Clause: {citation}"},
    "disclaimer": {
        "zh-Hans": "以上为估算,是否给予及具体金额以主管部门审核为准。",
        "en": "These are estimates; the authority decides whether and how much.",
    },
    "details": {"zh-Hans": "详情 {n}", "en": "Details {n}"},
    "answer_fact": {"zh-Hans": "补充:{fact}", "en": "Answer: {fact}"},
    "change_answer": {"zh-Hans": "修改回答", "en": "Change an answer"},
    "start_over": {"zh-Hans": "重新开始", "en": "Start over"},
    "show_results": {"zh-Hans": "查看结果", "en": "Show results"},
    "profile_title": {"zh-Hans": "您的回答(点按钮修改):", "en": "Your answers (press a button to change one):"},
    "profile_empty": {"zh-Hans": "还没有回答。发送 /start 开始。", "en": "No answers yet. Send /start to begin."},
    "unknown_value": {"zh-Hans": "不清楚", "en": "not sure"},
    "rule_quote": {"zh-Hans": "原文:“{quote}”", "en": "Source text: “{quote}”"},
    "rule_conditions": {"zh-Hans": "条件:", "en": "Conditions:"},
    "rule_materials": {"zh-Hans": "申报材料:{materials}", "en": "Materials: {materials}"},
    "no_materials": {"zh-Hans": "原文未列明申报材料", "en": "the source lists no materials"},
    "rule_dates": {"zh-Hans": "时间:", "en": "Dates:"},
    "rule_note": {"zh-Hans": "说明:{note}", "en": "Note: {note}"},
    "validity": {"zh-Hans": "  政策有效期:{start} 至 {end}", "en": "  Policy in force: {start} to {end}"},
    "numbered": {"zh-Hans": "{n}. {title}:{amount}", "en": "{n}. {title}: {amount}"},
    "deadlines_title": {"zh-Hans": "可申请奖励的申报时间:", "en": "Deadlines of the rewards you may apply for:"},
    "no_deadlines": {
        "zh-Hans": "目前没有可申请的奖励,或申报时间尚未公布。",
        "en": "No reward to apply for yet, or no dates published.",
    },
    "forget_confirm": {
        "zh-Hans": "确定删除我保存的关于本聊天的全部信息(回答、语言、提醒设置)吗?删除后无法恢复。",
        "en": "Delete everything I keep about this chat (answers, language, reminders)? This cannot be undone.",
    },
    "forget_yes": {"zh-Hans": "确定删除", "en": "Delete"},
    "forget_no": {"zh-Hans": "取消", "en": "Cancel"},
    "forgotten": {
        "zh-Hans": "已删除关于本聊天的全部信息。发送 /start 可以重新开始。",
        "en": "Everything about this chat is deleted. Send /start to begin again.",
    },
    "forget_cancelled": {"zh-Hans": "已取消,什么都没有删除。", "en": "Cancelled; nothing was deleted."},
    "choose_language": {"zh-Hans": "请选择语言:", "en": "Choose a language:"},
    "language_set": {"zh-Hans": "已切换为简体中文。", "en": "Language set to English."},
    "stale_button": {
        "zh-Hans": "这个按钮已失效(问题已回答或规则已更新)。",
        "en": "This button is out of date (already answered, or the rules changed).",
    },
    "bad_button": {
        "zh-Hans": "无法识别这个按钮,请发送 /start 继续。",
        "en": "I do not recognise this button; send /start to continue.",
    },
    "unknown_command": {
        "zh-Hans": "没有这个命令。发送 /help 查看可用命令。",
        "en": "Unknown command. Send /help for the list.",
    },
    "sorry": {
        "zh-Hans": "抱歉,处理时出了点问题,请稍后再试。您的回答没有丢失。",
        "en": "Sorry, something went wrong; please try again shortly. Your answers are safe.",
    },
}

LANGUAGE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}

COMMANDS: dict[str, dict[str, str]] = {
    "start": {"zh-Hans": "开始或继续", "en": "start or continue"},
    "results": {"zh-Hans": "查看结果", "en": "your results"},
    "deadlines": {"zh-Hans": "申报截止时间", "en": "application deadlines"},
    "profile": {"zh-Hans": "查看和修改回答", "en": "see and change your answers"},
    "lang": {"zh-Hans": "切换语言", "en": "change language"},
    "help": {"zh-Hans": "帮助", "en": "help"},
    "forget": {"zh-Hans": "删除我的信息", "en": "delete my data"},
}


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=8192)
def traditional(text: str) -> str:
    """Simplified → Traditional, for zh-Hant users (rule texts and interface texts alike)."""
    return _s2t().convert(text)


def pick(entry: dict[str, str], language: str, **values: object) -> str:
    """The text of an entry in the language (zh-Hant derived from zh-Hans unless given), values filled in.

    Only the template is converted to Traditional: the values are already in the reader's script.
    """
    if language in entry:
        text = entry[language]
    else:
        text = entry["zh-Hans"]
        if language == "zh-Hant":
            text = traditional(text)
    return text.format(**values) if values else text


def t(key: str, language: str, **values: object) -> str:
    """An interface text in the language, with values filled in."""
    return pick(TEXTS[key], language, **values)


def language_for(code: str | None) -> str:
    """Telegram's language_code → zh-Hans (default), zh-Hant (TW/HK/MO) or en (anything else)."""
    if not code:
        return "zh-Hans"
    code = code.lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-Hant" if any(tag in code for tag in ("tw", "hk", "mo", "hant")) else "zh-Hans"
    return "en"

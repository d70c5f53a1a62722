"""Turns questions, results and rule details into Outgoing messages in the contact's language."""

from __future__ import annotations

from bot.engine.matching import Match, RuleResult
from bot.engine.model import Question, Rule, localized
from bot.messages import AskedQuestion, Button, Outgoing
from handlers import phrases
from handlers.texts import t

BUTTONS_PER_ROW = 4
SKIP, ANSWER, TOGGLE, DONE, RULE, EDIT = "s", "a", "t", "d", "r", "e"


def callback(*parts: str) -> str:
    """Button data: short fields joined by ':' (Telegram allows 64 bytes)."""
    data = ":".join(parts)
    if len(data.encode()) > 64:
        raise ValueError(f"button data too long: {data}")
    return data


def _rows(buttons: list[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def question_message(
    question: Question, language: str, chosen: list[str] | None = None, progress: tuple[int, int] = (1, 1)
) -> Outgoing:
    """One question with its answer buttons and how far the interview is ("问题 3 / 约 6"); multi-choice options
    toggle with ✓ and end with 完成. The message also carries the question as a value for front ends that draw
    their own controls."""
    number, total = progress
    lines = [t("progress", language, n=number, total=total), localized(question.text, language)]
    buttons: list[Button] = []
    if question.type == "bool":
        buttons = [
            Button(t("yes", language), callback(ANSWER, question.fact, "1")),
            Button(t("no", language), callback(ANSWER, question.fact, "0")),
        ]
    elif question.type == "choice":
        buttons = [Button(o.label(language), callback(ANSWER, question.fact, o.value)) for o in question.options]
    elif question.type == "multi_choice":
        picked = set(chosen or ())
        buttons = [
            Button(("✓ " if o.value in picked else "") + o.label(language), callback(TOGGLE, question.fact, o.value))
            for o in question.options
        ]
        lines.append(t("multi_hint", language))
    else:
        lines.append(localized(question.help, language))
    rows = list(_rows(buttons, 1 if question.type == "multi_choice" else 2))
    last = [Button(t("skip", language), callback(SKIP, question.fact))]
    if question.type == "multi_choice":
        last.insert(0, Button(t("done", language), callback(DONE, question.fact)))
    rows.append(tuple(last))
    return Outgoing("\n".join(lines), tuple(rows), question=asked(question, language, chosen, progress))


def asked(question: Question, language: str, chosen: list[str] | None, progress: tuple[int, int]) -> AskedQuestion:
    """The question as a value: its fact, type, options with their labels in the language, and progress."""
    if question.type == "bool":
        options = (("1", t("yes", language)), ("0", t("no", language)))
    else:
        options = tuple((o.value, o.label(language)) for o in question.options)
    picked = tuple(o.value for o in question.options if o.value in (chosen or ()))
    return AskedQuestion(question.fact, question.type, options, progress, picked)


def _department(rule: Rule, language: str) -> str:
    return phrases.source_text(rule.department, language) if rule.department else t("no_department", language)


def amount_line(match: Match, result: RuleResult, language: str) -> str:
    return phrases.amount_line(match.amount(result), match.matcher.ruleset.catalogue, language)


def results_message(match: Match, language: str) -> Outgoing:
    """The grouped results: eligible with amount, clause, department and next deadline; open; near misses."""
    catalogue = match.matcher.ruleset.catalogue
    lines = [t("results_title", language, day=match.today.isoformat()), ""]
    detail_buttons: list[Button] = []
    answer_buttons: dict[str, Button] = {}
    number = 0

    def numbered(result: RuleResult) -> str:
        nonlocal number
        number += 1
        detail_buttons.append(Button(t("details", language, n=number), callback(RULE, result.rule.id)))
        title = phrases.title(result.rule, language)
        return t("numbered", language, n=number, title=title, amount=amount_line(match, result, language))

    if match.eligible:
        lines.append(t("eligible", language, n=len(match.eligible)))
        for result in match.eligible:
            rule = result.rule
            lines.append(numbered(result))
            lines.append("   " + t("basis", language, citation=phrases.citation(rule, language)))
            lines.append("   " + t("department", language, department=_department(rule, language)))
            lines.append("   " + t("when", language, when=phrases.schedule_summary(match.schedule(result), language)))
    else:
        lines.append(t("none_eligible", language))
    if match.undetermined:
        lines += ["", t("possible", language, n=len(match.undetermined))]
        for result in match.undetermined:
            lines.append(numbered(result))
            facts = [catalogue[f] for f in result.missing]
            names = phrases.phrase("list_separator", language).join(q.short_label(language) for q in facts)
            lines.append("   " + t("still_unknown", language, facts=names))
            for question in facts:
                answer_buttons.setdefault(
                    question.fact,
                    Button(
                        t("answer_fact", language, fact=question.short_label(language)), callback(EDIT, question.fact)
                    ),
                )
    if match.near_misses:
        lines += ["", t("near", language, n=len(match.near_misses))]
        for result in match.near_misses:
            lines.append(numbered(result))
            lines.append("   " + phrases.shortfall(match.shortfall(result), catalogue, language))
    lines += ["", t("disclaimer", language)]
    version = match.matcher.ruleset.version
    if version:  # which rule set the results come from, so an answer can be traced after the rules change
        lines.append(t("rules_version", language, version=version))
    rows = list(_rows(detail_buttons, BUTTONS_PER_ROW)) + list(_rows(list(answer_buttons.values()), 2))
    rows.append((Button(t("change_answer", language), "p"), Button(t("start_over", language), "restart")))
    return Outgoing("\n".join(lines), tuple(rows))


def rule_details_message(match: Match, result: RuleResult, language: str) -> Outgoing:
    """Everything about one reward: the quoted clause, the conditions as a trace, materials, department, dates."""
    rule = result.rule
    catalogue = match.matcher.ruleset.catalogue
    marks = {True: "✓", False: "✗", None: "?"}
    lines = [
        phrases.title(rule, language),
        amount_line(match, result, language),
        t("basis", language, citation=phrases.citation(rule, language)),
        t("rule_quote", language, quote=phrases.source_text(rule.quote, language)),
        "",
        t("rule_conditions", language),
    ]
    lines += [
        f"{'  ' * (check.depth + 1)}{marks[check.holds]} {phrases.check_line(check, catalogue, language)}"
        for check in match.why(result)
    ]
    separator = phrases.phrase("list_separator", language)
    materials = separator.join(phrases.source_text(m, language) for m in rule.materials)
    lines += [
        "",
        t("rule_materials", language, materials=materials or t("no_materials", language)),
        t("department", language, department=_department(rule, language)),
        t("rule_dates", language),
    ]
    schedule = match.schedule(result)
    # The summary stands for the next date (or the last closed one), so that date is not listed twice.
    if schedule.next is not None:
        lines += [f"  {phrases.dated_line(d, language)}" for d in schedule.expired]
    lines.append(f"  {phrases.schedule_summary(schedule, language)}")
    lines += [f"  {phrases.dated_line(d, language)}" for d in schedule.upcoming[1:]]
    if rule.valid_from or rule.valid_until:
        lines.append(t("validity", language, start=rule.valid_from or "—", end=rule.valid_until or "—"))
    lines += [t("rule_note", language, note=note) for note in phrases.notes(rule, language)]
    buttons = ((Button(t("show_results", language), "res"),),)
    return Outgoing("\n".join(lines), buttons)


def deadlines_message(match: Match, language: str) -> Outgoing:
    """The next deadline of every reward the contact may apply for, soonest first."""
    dated = []
    for result in match.eligible:
        schedule = match.schedule(result)
        if schedule.next is not None:
            title = phrases.title(result.rule, language)
            summary = phrases.schedule_summary(schedule, language)
            dated.append((schedule.next.date, f"{schedule.next.date.isoformat()}  {title}\n   {summary}"))
    if not dated:
        return Outgoing(t("no_deadlines", language))
    lines = [t("deadlines_title", language)] + [text for _, text in sorted(dated)]
    return Outgoing("\n".join(lines))


def profile_message(questions: list[Question], answers: dict, skipped: list[str], language: str) -> Outgoing:
    """The answers so far, one button per fact to change it."""
    if not questions:
        return Outgoing(t("profile_empty", language))
    lines = [t("profile_title", language)]
    buttons = []
    for question in questions:
        if question.fact in answers:
            value = phrases.fact_value(question, answers[question.fact], language)
        else:
            value = t("unknown_value", language)
        lines.append(f"• {question.short_label(language)}:{value}")
        buttons.append(Button(question.short_label(language), callback(EDIT, question.fact)))
    rows = list(_rows(buttons, 2)) + [(Button(t("show_results", language), "res"),)]
    return Outgoing("\n".join(lines), tuple(rows))

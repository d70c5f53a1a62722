"""Turns questions, results and rule details into Outgoing messages in the contact's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.engine.matching import Match, RuleResult
from bot.engine.model import AMOUNTLESS_KINDS, Catalogue, Deadline, Question, Rule, localized
from bot.engine.parsing import Invalid
from bot.engine.questions import estimates_open
from bot.engine.regions import SEPARATOR, RegionIndex
from bot.messages import AskedQuestion, Button, Outgoing
from handlers import phrases
from handlers.texts import t

BUTTONS_PER_ROW = 4
SKIP, ANSWER, TOGGLE, DONE, RULE, EDIT, KEEP = "s", "a", "t", "d", "r", "e", "k"
REGION = "region"
CALENDAR = "cal"  # the button that sends the deadlines as a calendar file


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


def places_message(question: Question, invalid: Invalid, regions: RegionIndex, language: str) -> Outgoing:
    """An ambiguous or unknown place asked back: one button per place it may be (by its code: a path may be
    longer than Telegram's 64 bytes of button data), and the question's skip button."""
    key = "which_place" if invalid.problem == "ambiguous_place" else "did_you_mean"
    text = t(key, language, name=phrases.source_text(invalid.excerpt, language))
    buttons = [
        Button(phrases.place(path, language), callback(ANSWER, question.fact, code))
        for path in invalid.candidates
        if (code := regions.code(path)) is not None
    ]
    rows = [*_rows(buttons, 1), (Button(t("skip", language), callback(SKIP, question.fact)),)]
    return Outgoing(text, tuple(rows))


def district_message(place: str, regions: RegionIndex, language: str) -> Outgoing:
    """Asks which district of the answered place, with a button for each and one to keep the answer as it is."""
    buttons = [
        Button(phrases.source_text(path.rsplit(SEPARATOR, 1)[-1], language), callback(ANSWER, REGION, code))
        for path in regions.children(place)
        if (code := regions.code(path)) is not None
    ]
    rows = [*_rows(buttons, 3), (Button(t("keep_region", language), callback(KEEP, REGION)),)]
    return Outgoing(t("which_district", language, place=phrases.place(place, language)), tuple(rows))


def out_of_scope_message(place: str, covered: list[str], language: str) -> Outgoing:
    """Says no known policy applies in the place and which regions they cover; the interview ends there."""
    separator = phrases.phrase("list_separator", language)
    text = t(
        "out_of_scope",
        language,
        place=phrases.place(place, language),
        covered=separator.join(phrases.place(scope, language) for scope in covered),
    )
    buttons = (
        (Button(t("change_region", language), callback(EDIT, REGION)), Button(t("start_over", language), "restart")),
    )
    return Outgoing(text, buttons)


def _department(rule: Rule, language: str) -> str:
    return phrases.source_text(rule.department, language) if rule.department else t("no_department", language)


def amount_line(match: Match, result: RuleResult, language: str) -> str:
    return phrases.amount_line(match.amount(result), match.matcher.ruleset.catalogue, language)


# Near misses shown under the results; the rest are one button away.
NEAR_SHOWN = 5
NEAR = "near"  # the button that lists every near miss


def stake(match: Match, result: RuleResult) -> int:
    """The amount at stake in a reward, for ranking: its estimate, else its cap, else its floor (0 when none)."""
    amount = match.amount(result)
    return amount.estimate_yuan or amount.max_yuan or amount.min_yuan or 0


def applied_for_here(result: RuleResult) -> bool:
    """A reward an enterprise applies for; tax measures, financial services, lists and pools are applied
    elsewhere (or not at all), and are listed apart as related policies."""
    return result.rule.reward.kind not in AMOUNTLESS_KINDS


def _ranked(match: Match, results: list[RuleResult]) -> list[RuleResult]:
    return sorted(results, key=lambda result: -stake(match, result))


@dataclass(frozen=True)
class Groups:
    """A match's results as they are shown: rewards it may apply for and those still open (largest amount at
    stake first, with the total of the former), the near misses (closest reward first), and the related policies
    nobody applies for here."""

    rewards: list[RuleResult]
    open: list[RuleResult]
    near: list[RuleResult]
    related: list[RuleResult]
    total: int

    @classmethod
    def of(cls, match: Match) -> Groups:
        rewards = _ranked(match, [r for r in match.eligible if applied_for_here(r)])
        return cls(
            rewards,
            _ranked(match, [r for r in match.undetermined if applied_for_here(r)]),
            _ranked(match, [r for r in match.near_misses if applied_for_here(r)]),
            [r for r in (*match.eligible, *match.undetermined) if not applied_for_here(r)],
            sum(stake(match, result) for result in rewards),
        )


def depends_on(result: RuleResult, catalogue: Catalogue, language: str) -> str:
    """What a related policy's applying depends on (its facts still unknown)."""
    names = phrases.phrase("list_separator", language).join(catalogue[f].short_label(language) for f in result.missing)
    return t("depends_on", language, facts=names)


def rewards_heading(groups: Groups, language: str) -> str:
    """✅ 可以申请(3 项,金额合计最高约 900万元;…), or that none is certain yet."""
    if not groups.rewards:
        return t("none_eligible", language)
    if groups.total:
        return t("eligible_total", language, n=len(groups.rewards), total=phrases.money(groups.total, language))
    return t("eligible", language, n=len(groups.rewards))


def past_horizon(match: Match, result: RuleResult, language: str) -> str | None:
    """The flag of a result whose policy is past the period it states for itself, else None."""
    horizon = result.rule.horizon
    if horizon is None or match.today <= horizon.until:
        return None
    until = f"{horizon.until.year}" if (horizon.until.month, horizon.until.day) == (12, 31) else None
    key = "past_horizon_year" if until else "past_horizon_day"
    return t(key, language, year=until, day=horizon.until.isoformat())


def results_message(match: Match, language: str) -> Outgoing:
    """The grouped results: rewards it may apply for (largest first, with their total), then those still open,
    the near misses (the closest few), and the related policies nobody applies for here."""
    catalogue = match.matcher.ruleset.catalogue
    lines = [t("results_title", language, day=match.today.isoformat()), ""]
    detail_buttons: list[Button] = []
    answer_buttons: dict[str, Button] = {}
    number = 0

    def numbered(result: RuleResult) -> None:
        nonlocal number
        number += 1
        detail_buttons.append(Button(t("details", language, n=number), callback(RULE, result.rule.id)))
        title = phrases.title(result.rule, language)
        lines.append(t("numbered", language, n=number, title=title, amount=amount_line(match, result, language)))
        flag = past_horizon(match, result, language)
        if flag:
            lines.append("   " + flag)

    def offer(question: Question) -> None:
        label = t("answer_fact", language, fact=question.short_label(language))
        answer_buttons.setdefault(question.fact, Button(label, callback(EDIT, question.fact)))

    def still_unknown(result: RuleResult) -> None:
        facts = [catalogue[f] for f in result.missing]
        names = phrases.phrase("list_separator", language).join(q.short_label(language) for q in facts)
        lines.append("   " + t("still_unknown", language, facts=names))
        for question in facts:
            offer(question)

    groups = Groups.of(match)
    lines.append(rewards_heading(groups, language))
    for result in groups.rewards:
        rule = result.rule
        numbered(result)
        lines.append("   " + t("basis", language, citation=phrases.citation(rule, language)))
        lines.append("   " + t("department", language, department=_department(rule, language)))
        lines.append("   " + t("when", language, when=phrases.schedule_summary(match.schedule(result), language)))
    if groups.rewards:
        # What only an amount's estimate needs (a loan's rate) is not asked in the interview: one tap asks it here.
        for question in estimates_open(match):
            offer(question)
    if groups.open:
        lines += ["", t("possible", language, n=len(groups.open))]
        for result in groups.open:
            numbered(result)
            still_unknown(result)
    near = groups.near
    if near:
        lines += ["", t("near", language, n=len(near))]
        for result in near[:NEAR_SHOWN]:
            numbered(result)
            lines.append("   " + phrases.shortfall(match.shortfall(result), catalogue, language))
        if len(near) > NEAR_SHOWN:
            lines.append("   " + t("more_near", language, n=len(near) - NEAR_SHOWN))
    if groups.related:
        lines += ["", t("related", language, n=len(groups.related))]
        for result in groups.related:
            numbered(result)
            if result.missing:  # may apply: say on what, without asking for it
                lines.append("   " + depends_on(result, catalogue, language))
    lines += ["", t("disclaimer", language)]
    version = match.matcher.ruleset.version
    if version:  # which rule set the results come from, so an answer can be traced after the rules change
        lines.append(t("rules_version", language, version=version))
    rows = list(_rows(detail_buttons, BUTTONS_PER_ROW)) + list(_rows(list(answer_buttons.values()), 2))
    if len(near) > NEAR_SHOWN:
        rows.append((Button(t("all_near", language, n=len(near)), NEAR),))
    if upcoming_deadlines(match):
        rows.append((calendar_button(language),))
    rows.append((Button(t("change_answer", language), "p"), Button(t("start_over", language), "restart")))
    return Outgoing("\n".join(lines), tuple(rows))


def near_misses_message(match: Match, language: str) -> Outgoing:
    """Every near miss, closest reward first, each with what it misses and a details button."""
    catalogue = match.matcher.ruleset.catalogue
    near = Groups.of(match).near
    if not near:
        return Outgoing(t("no_near", language), ((Button(t("show_results", language), "res"),),))
    lines = [t("near", language, n=len(near))]
    buttons = []
    for number, result in enumerate(near, 1):
        title = phrases.title(result.rule, language)
        lines.append(t("numbered", language, n=number, title=title, amount=amount_line(match, result, language)))
        lines.append("   " + phrases.shortfall(match.shortfall(result), catalogue, language))
        buttons.append(Button(t("details", language, n=number), callback(RULE, result.rule.id)))
    rows = [*_rows(buttons, BUTTONS_PER_ROW), (Button(t("show_results", language), "res"),)]
    return Outgoing("\n".join(lines), tuple(rows))


def rule_details_message(match: Match, result: RuleResult, language: str) -> Outgoing:
    """Everything about one reward: the quoted clause, the conditions as a trace, materials, department, dates."""
    rule = result.rule
    catalogue = match.matcher.ruleset.catalogue
    marks = {True: "✓", False: "✗", None: "?"}
    flag = past_horizon(match, result, language)
    lines = [
        phrases.title(rule, language),
        amount_line(match, result, language),
        *([flag] if flag else []),
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
    # The summary stands for the next date (or the last closed one), so that date is not listed twice; a day a
    # call and the document both name is listed once (the call's, which says where to apply).
    shown = {schedule.next.date} if schedule.next is not None else set()
    if schedule.next is not None:
        for deadline in schedule.expired:
            if deadline.date not in shown:
                shown.add(deadline.date)
                lines.append(f"  {phrases.dated_line(deadline, language)}")
    lines.append(f"  {phrases.schedule_summary(schedule, language)}")
    for deadline in schedule.upcoming[1:]:
        if deadline.date not in shown:
            shown.add(deadline.date)
            lines.append(f"  {phrases.dated_line(deadline, language)}")
    if rule.valid_from or rule.valid_until:
        lines.append(t("validity", language, start=rule.valid_from or "—", end=rule.valid_until or "—"))
    lines += [t("rule_note", language, note=note) for note in phrases.notes(rule, language)]
    buttons = ((Button(t("show_results", language), "res"),),)
    return Outgoing("\n".join(lines), buttons)


@dataclass(frozen=True)
class Upcoming:
    """One date still ahead of a reward the contact may apply for (eligible) or may still qualify for."""

    result: RuleResult
    deadline: Deadline
    today: date

    @property
    def days_left(self) -> int:
        return (self.deadline.date - self.today).days


def upcoming_deadlines(match: Match) -> list[Upcoming]:
    """Every date still ahead of each eligible or undetermined reward, soonest first; one per reward and day (an
    application call's, which says where to apply, before a date the document states)."""
    found: dict[tuple[str, date], Upcoming] = {}
    for result in [*match.eligible, *match.undetermined]:
        for deadline in match.schedule(result).upcoming:
            key = (result.rule.id, deadline.date)
            if key not in found or (found[key].deadline.call is None and deadline.call is not None):
                found[key] = Upcoming(result, deadline, match.today)
    return sorted(found.values(), key=lambda u: (u.deadline.date, u.result.status != "eligible", u.result.rule.id))


def where_to_apply(rule: Rule, deadline: Deadline, language: str) -> str:
    """Where the application goes: the call's office if it names one, else the rule's department."""
    call = deadline.call
    if call is not None and call.where:
        return phrases.source_text(call.where, language)
    return _department(rule, language)


def days_left_phrase(days: int, language: str) -> str:
    return phrases.phrase("closes_today", language) if days == 0 else phrases.phrase("days_left", language, n=days)


def calendar_button(language: str) -> Button:
    return Button(t("calendar_button", language), CALENDAR)


def deadlines_message(match: Match, language: str) -> Outgoing:
    """Every date still ahead of the rewards the contact may apply for or may still qualify for, soonest first,
    with the days left, and a button for the same dates as a calendar file."""
    coming = upcoming_deadlines(match)
    if not coming:
        return Outgoing(t("no_deadlines", language))
    lines = [t("deadlines_title", language, day=match.today.isoformat())]
    for upcoming in coming:
        rule, deadline = upcoming.result.rule, upcoming.deadline
        possible = "" if upcoming.result.status == "eligible" else t("deadline_possible", language)
        lines.append(
            t("deadline_line", language, date=deadline.date.isoformat(), left=days_left_phrase(upcoming.days_left,
              language), title=phrases.title(rule, language), possible=possible)
        )  # fmt: skip
        lines.append("   " + phrases.deadline_label(deadline, language))
        lines.append("   " + amount_line(match, upcoming.result, language))
        lines.append("   " + t("apply_at", language, where=where_to_apply(rule, deadline, language)))
    return Outgoing("\n".join(lines), ((calendar_button(language),),))


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

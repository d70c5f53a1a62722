"""The enterprise interview: one question at a time, chosen by the engine, answers parsed or re-asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.engine.answers import parse_answer
from bot.engine.engine import Engine
from bot.engine.model import Question, localized
from bot.engine.parsing import Invalid, is_skip
from bot.report import match_text

SKIP_HINT = {
    "zh-Hans": "不清楚可以回答“不清楚”跳过。",
    "zh-Hant": "不清楚可以回答「不清楚」跳過。",
    "en": "Answer '?' to skip.",
}


@dataclass
class InterviewState:
    """What one contact has answered so far; plain data so any store can keep it."""

    answers: dict[str, Any] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    current: str | None = None
    language: str = "zh-Hans"


@dataclass(frozen=True)
class Reply:
    """What the bot says back: text, and the question now waiting for an answer (if any)."""

    text: str
    question: Question | None = None


def question_prompt(question: Question, language: str) -> str:
    """The question text, its options numbered (numbers are accepted as answers), and how to skip."""
    lines = [localized(question.text, language)]
    if question.options:
        lines += [f"  {i}. {o.label(language)}" for i, o in enumerate(question.options, 1)]
        if question.type == "multi_choice":
            lines.append({"en": "Several answers: separate with commas."}.get(language, "可多选,用逗号分隔。"))
    lines.append(SKIP_HINT.get(language, SKIP_HINT["zh-Hans"]))
    return "\n".join(lines)


def _by_number(question: Question, text: str) -> str:
    """Lets '1,3' pick options by the numbers shown next to them."""
    parts = [p for p in text.replace(",", ",").replace("、", ",").replace(" ", ",").split(",") if p]
    if not question.options or not parts or not all(p.isdigit() for p in parts):
        return text
    picked = [question.options[int(p) - 1].label() for p in parts if 1 <= int(p) <= len(question.options)]
    return "、".join(picked) if len(picked) == len(parts) else text


class Interview:
    """Runs the interview for one contact on a loaded engine; stateless itself, the state is passed in."""

    def __init__(self, engine: Engine, today: date):
        self.engine, self.today = engine, today

    def ask_next(self, state: InterviewState) -> Reply:
        """Asks the question that can change the most open results, or shows the results when none can."""
        question = self.engine.next_question(state.answers, self.today, state.skipped)
        state.current = question.fact if question else None
        if question is None:
            return Reply(self.results(state))
        return Reply(question_prompt(question, state.language), question)

    def answer(self, state: InterviewState, text: str) -> Reply:
        """Stores the answer to the current question and asks the next; a bad answer is re-asked with a hint."""
        if state.current is None:
            return self.ask_next(state)
        question = self.engine.ruleset.catalogue[state.current]
        if is_skip(text):
            state.skipped.add(question.fact)
            return self.ask_next(state)
        result = parse_answer(question, _by_number(question, text.strip()), self.engine.regions)
        if isinstance(result, Invalid):
            return Reply(f"{result.reason}。{result.hint}\n\n{question_prompt(question, state.language)}", question)
        state.answers[question.fact] = result.value
        state.skipped.discard(question.fact)
        return self.ask_next(state)

    def results(self, state: InterviewState) -> str:
        return match_text(self.engine.match(state.answers, self.today))

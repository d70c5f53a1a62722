"""The enterprise conversation: the interview, results, details, profile edits, language and forgetting."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from bot.engine.answers import parse_answer
from bot.engine.deadlines import china_today
from bot.engine.engine import Engine
from bot.engine.matching import Match
from bot.engine.model import Question
from bot.engine.parsing import Invalid, is_skip, parse_region
from bot.engine.questions import facts_left, next_question_for
from bot.messages import Button, Incoming, Outgoing
from bot.store.base import ChatState
from handlers import phrases
from handlers.calendar import calendar_message
from handlers.render import (
    ANSWER,
    CALENDAR,
    DONE,
    EDIT,
    KEEP,
    NEAR,
    REGION,
    RULE,
    SKIP,
    TOGGLE,
    callback,
    deadlines_message,
    district_message,
    near_misses_message,
    out_of_scope_message,
    places_message,
    profile_message,
    question_message,
    results_message,
    rule_details_message,
)
from handlers.texts import LANGUAGE_NAMES, LANGUAGES, language_for, t

DONE_WORDS = {"完成", "好了", "选好了", "done", "ok"}
# Answers after which a question also offers the results so far.
PEEK_AFTER = 3


@dataclass
class Reply:
    """What the handler decided: messages to show, and whether the chat's data must be deleted."""

    messages: list[Outgoing] = field(default_factory=list)
    forget: bool = False


class EnterpriseConversation:
    """Decides the reply to one Incoming for one chat's state; no I/O, so any channel and store can use it."""

    def __init__(self, engine: Callable[[], Engine], today: Callable[[], date] = china_today):
        self._engine, self._today = engine, today

    @property
    def engine(self) -> Engine:
        return self._engine()

    def handle(self, incoming: Incoming, state: ChatState) -> Reply:
        """Routes a command, a button press or a text answer; mutates state, returns what to say."""
        if state.new and incoming.language_code:
            state.language = language_for(incoming.language_code)
        if incoming.in_group:
            return Reply([Outgoing(t("private_only", state.language))])
        if state.undelivered:
            return self._after_undelivered(incoming, state)
        return self._route(incoming, state)

    def _route(self, incoming: Incoming, state: ChatState) -> Reply:
        if incoming.edited:
            # Applying a correction to an answer given several questions ago would silently change results.
            return Reply([Outgoing(t("edited", state.language))])
        if incoming.unreadable is not None:
            return Reply([Outgoing(t("text_only", state.language)), *self._ask_current_or_next(state)])
        if incoming.callback_data is not None:
            return self._button(incoming.callback_data, state)
        if incoming.command is not None:
            return self._command(incoming.command, state)
        return self._text(incoming.text, state)

    def _after_undelivered(self, incoming: Incoming, state: ChatState) -> Reply:
        """Our last reply never reached the contact: say so, and ask the open question again before reading
        a typed answer, which cannot be an answer to a question the contact never saw."""
        state.undelivered = False
        sorry = Outgoing(t("undelivered", state.language))
        if incoming.callback_data is None and incoming.command is None:
            return Reply([sorry, *self._ask_current_or_next(state)])
        reply = self._route(incoming, state)
        return Reply([sorry, *reply.messages], reply.forget)

    # Commands

    def _command(self, command: str, state: ChatState) -> Reply:
        lang = state.language
        handlers: dict[str, Callable[[ChatState], Reply]] = {
            "start": self._start,
            "help": lambda s: Reply([Outgoing(t("help", lang))]),
            "results": lambda s: Reply([results_message(self._match(s), lang)]),
            "deadlines": lambda s: Reply([deadlines_message(self._match(s), lang)]),
            "calendar": lambda s: Reply([calendar_message(self._match(s), lang)]),
            "profile": self._profile,
            "lang": self._choose_language,
            "forget": self._confirm_forget,
            "subscribe": lambda s: self._subscription(s, True),
            "unsubscribe": lambda s: self._subscription(s, False),
        }
        handler = handlers.get(command)
        return handler(state) if handler else Reply([Outgoing(t("unknown_command", lang))])

    def _start(self, state: ChatState) -> Reply:
        """Welcomes the contact and asks the first question, or continues an interview already begun."""
        lang = state.language
        if state.answers or state.skipped:
            back = Outgoing(t("welcome_back", lang), ((Button(t("start_over", lang), "restart"),),))
            return Reply([back, *self._ask_current_or_next(state)])
        return Reply([Outgoing(t("welcome", lang)), *self._ask_next(state)])

    def _profile(self, state: ChatState) -> Reply:
        catalogue = self.engine.ruleset.catalogue
        known = [q for q in catalogue.questions.values() if q.fact in state.answers or q.fact in state.skipped]
        return Reply([profile_message(known, state.answers, state.skipped, state.language)])

    def _subscription(self, state: ChatState, subscribed: bool) -> Reply:
        """Stores whether the contact wants policy notices and deadline reminders, and says so."""
        state.subscribed = subscribed
        return Reply([Outgoing(t("subscribed" if subscribed else "unsubscribed", state.language))])

    def _choose_language(self, state: ChatState) -> Reply:
        buttons = tuple((Button(LANGUAGE_NAMES[code], f"l:{code}"),) for code in LANGUAGES)
        return Reply([Outgoing(t("choose_language", state.language), buttons)])

    def _confirm_forget(self, state: ChatState) -> Reply:
        lang = state.language
        buttons = ((Button(t("forget_yes", lang), "f:yes"), Button(t("forget_no", lang), "f:no")),)
        return Reply([Outgoing(t("forget_confirm", lang), buttons)])

    # Answers

    def _text(self, text: str, state: ChatState) -> Reply:
        if state.current is None:
            return Reply([Outgoing(t("no_question", state.language))])
        if state.current not in self.engine.ruleset.catalogue:
            # The rules were reloaded without this question: the answers stay, the interview goes on.
            return Reply(self._ask_next(state))
        question = self.engine.ruleset.catalogue[state.current]
        if is_skip(text):
            return self._skip(question, state)
        if question.type == "multi_choice" and text.strip().casefold() in DONE_WORDS:
            return self._store_answer(question, self._ordered(question, state.pending_choices), state)
        if question.type == "region":
            result = parse_region(text, self.engine.regions, near=self._refining(state))
        else:
            result = parse_answer(question, text, self.engine.regions)
        if isinstance(result, Invalid) and question.type == "region" and result.candidates:
            return Reply([places_message(question, result, self.engine.regions, state.language)])
        if isinstance(result, Invalid):
            again = self._question(question, state)
            reason, hint = phrases.problem(result, question, state.language)
            return Reply([Outgoing(t("not_understood", state.language, reason=reason, hint=hint)), again])
        return self._store_answer(question, result.value, state)

    def _store_answer(self, question: Question, value: object, state: ChatState) -> Reply:
        state.answers[question.fact] = value
        if question.fact in state.skipped:
            state.skipped.remove(question.fact)
        if question.type == "region" and isinstance(value, str) and self._match(state).narrower_scopes():
            # A rule of one district of the answered city is open: only the district can decide it.
            reply = Reply([district_message(value, self.engine.regions, state.language)])
        else:
            reply = self._after_answer(state)
        # Read back at once, so a misreading is seen and fixed with one tap (the button under what follows).
        value_text = phrases.fact_value(question, value, state.language)
        heard = Outgoing(t("read_back", state.language, fact=question.short_label(state.language), value=value_text))
        change = Button(t("change_previous", state.language, fact=question.short_label(state.language)),
                        callback(EDIT, question.fact))  # fmt: skip
        following = [*reply.messages]
        for index in range(len(following) - 1, -1, -1):
            message = following[index]
            if message.buttons:
                if change.data not in {button.data for row in message.buttons for button in row}:
                    following[index] = dataclasses.replace(message, buttons=(*message.buttons, (change,)))
                break
        return Reply([heard, *following], reply.forget)

    @staticmethod
    def _refining(state: ChatState) -> str | None:
        """The answered region whose district is being asked (a name inside it is meant before its namesakes)."""
        region = state.answers.get(REGION)
        return region if state.current == REGION and isinstance(region, str) and not state.editing else None

    def _skip(self, question: Question, state: ChatState) -> Reply:
        state.answers.pop(question.fact, None)
        if question.fact not in state.skipped:
            state.skipped.append(question.fact)
        return self._after_answer(state)

    def _after_answer(self, state: ChatState) -> Reply:
        """Asks the next question; after a changed answer, shows the updated results first."""
        state.pending_choices = []
        changed, state.editing = state.editing, False
        following = self._ask_next(state)
        if changed and state.current is not None:
            return Reply([results_message(self._match(state), state.language), *following])
        return Reply(following)  # with nothing left to ask, this already ends with the results

    def _ask_next(self, state: ChatState) -> list[Outgoing]:
        match = self._match(state)
        question = next_question_for(match, state.skipped)
        state.current = question.fact if question else None
        state.pending_choices = []
        if question is None:
            region = state.answers.get(REGION)
            if isinstance(region, str) and not self.engine.matcher.covers(region):
                # No rule applies there: say so at once, rather than a list of rewards that are all out of reach.
                return [out_of_scope_message(region, self.engine.matcher.covered_regions, state.language)]
            return [Outgoing(t("all_done", state.language)), results_message(match, state.language)]
        return [self._question(question, state, match)]

    def _ask_current_or_next(self, state: ChatState) -> list[Outgoing]:
        catalogue = self.engine.ruleset.catalogue
        if state.current in catalogue:
            return [self._question(catalogue[state.current], state)]
        return self._ask_next(state)

    def _question(self, question: Question, state: ChatState, match: Match | None = None) -> Outgoing:
        """The question with the toggles chosen so far and how far the interview is; after a few answers, also a
        button to see the results so far and go on."""
        progress = self._progress(question, state, match)
        message = question_message(question, state.language, state.pending_choices, progress)
        if len(state.answers) < PEEK_AFTER:
            return message
        peek = Button(t("results_so_far", state.language), "peek")
        return dataclasses.replace(message, buttons=(*message.buttons, (peek,)))

    def _progress(self, question: Question, state: ChatState, match: Match | None = None) -> tuple[int, int]:
        """This question's number (the answers given and skipped, then this one) and the estimated number in all
        (that and every question that may still follow, which shrinks as answers settle results)."""
        match = match if match is not None else self._match(state)
        done = (state.answers.keys() | set(state.skipped)) - {question.fact}
        following = facts_left(match, state.skipped) - done - {question.fact}
        number = len(done) + 1
        return number, number + len(following)

    def _ask(self, question: Question, state: ChatState) -> list[Outgoing]:
        """Asks a particular question (to change or complete an answer)."""
        state.current, state.editing = question.fact, True
        previous = state.answers.get(question.fact)
        state.pending_choices = list(previous) if question.type == "multi_choice" and previous else []
        return [self._question(question, state)]

    def _match(self, state: ChatState) -> Match:
        return self.engine.match(state.answers, self._today())

    # Buttons

    def _button(self, data: str, state: ChatState) -> Reply:
        """Handles a pressed button; stale or forged data gets a polite notice, never an error."""
        kind, _, rest = data.partition(":")
        simple: dict[str, Callable[[ChatState], Reply]] = {
            "restart": self._restart,
            "unsub": lambda s: self._subscription(s, False),
            "sub": lambda s: self._subscription(s, True),
            "res": lambda s: Reply([results_message(self._match(s), s.language)]),
            NEAR: lambda s: Reply([near_misses_message(self._match(s), s.language)]),
            "peek": lambda s: Reply([results_message(self._match(s), s.language), *self._ask_current_or_next(s)]),
            CALENDAR: lambda s: Reply([calendar_message(self._match(s), s.language)]),
            "p": self._profile,
        }
        if not rest and kind in simple:
            return simple[kind](state)
        if kind in (ANSWER, TOGGLE, DONE, SKIP):
            return self._question_button(kind, rest, state)
        if kind == RULE:
            return self._rule_details(rest, state)
        if kind == KEEP and rest == REGION and state.current == REGION and REGION in state.answers:
            return self._after_answer(state)  # the district is not among those listed, or not known
        if kind == EDIT and rest in self.engine.ruleset.catalogue:
            return Reply(self._ask(self.engine.ruleset.catalogue[rest], state))
        if kind == "l" and rest in LANGUAGES:
            state.language = rest
            return Reply([Outgoing(t("language_set", rest)), *self._ask_current_or_next(state)])
        if kind == "f" and rest in ("yes", "no"):
            if rest == "no":
                return Reply([Outgoing(t("forget_cancelled", state.language), edit=True)])
            return Reply([Outgoing(t("forgotten", state.language), edit=True)], forget=True)
        return self._notice("bad_button", state)

    def _notice(self, key: str, state: ChatState) -> Reply:
        return Reply([Outgoing("", notice=t(key, state.language))])

    def _restart(self, state: ChatState) -> Reply:
        state.answers.clear()
        state.skipped.clear()
        state.editing = False
        return Reply(self._ask_next(state))

    def _rule_details(self, rule_id: str, state: ChatState) -> Reply:
        match = self._match(state)
        result = match.result_for(rule_id)
        if result is None:
            return self._notice("stale_button", state)
        return Reply([rule_details_message(match, result, state.language)])

    def _question_button(self, kind: str, rest: str, state: ChatState) -> Reply:
        fact, _, value = rest.partition(":")
        catalogue = self.engine.ruleset.catalogue
        if fact not in catalogue:
            return self._notice("bad_button", state)
        if fact != state.current:
            return self._notice("stale_button", state)
        question = catalogue[fact]
        if kind == SKIP:
            return self._skip(question, state)
        if kind == DONE and question.type == "multi_choice":
            return self._store_answer(question, self._ordered(question, state.pending_choices), state)
        if kind == TOGGLE and question.type == "multi_choice" and question.option(value):
            if value in state.pending_choices:
                state.pending_choices.remove(value)
            else:
                state.pending_choices.append(value)
            return Reply([dataclasses.replace(self._question(question, state), edit=True)])
        if kind == ANSWER and question.type == "bool" and value in ("1", "0"):
            return self._store_answer(question, value == "1", state)
        if kind == ANSWER and question.type == "choice" and question.option(value):
            return self._store_answer(question, value, state)
        if kind == ANSWER and question.type == "region" and (path := self.engine.regions.path_of(value)):
            return self._store_answer(question, path, state)
        return self._notice("bad_button", state)

    @staticmethod
    def _ordered(question: Question, chosen: list[str]) -> list[str]:
        return [o.value for o in question.options if o.value in chosen]

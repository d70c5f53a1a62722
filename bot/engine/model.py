"""Plain values the engine works on: questions, documents, rules, rewards, dates and application calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.conditions import Condition

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANGUAGE = "zh-Hans"

FACT_TYPES = ("choice", "multi_choice", "money", "number", "rate", "bool", "region")
NUMERIC_TYPES = ("money", "number", "rate")

REWARD_KINDS = ("cash_reward", "subsidy", "interest_subsidy", "tax_measure", "non_cash")
# Kinds that carry no amount: a tax policy or a cultivation list is applied for elsewhere, not paid out.
AMOUNTLESS_KINDS = ("tax_measure", "non_cash")

Profile = dict[str, Any]
# Text an admin wrote in a rule file, by language: the Chinese as written, and any translation given beside it.
Texts = dict[str, str]


def localized(texts: dict[str, str], language: str) -> str:
    """The text in the wanted language, falling back to Simplified Chinese."""
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()), "")


@dataclass(frozen=True)
class ChoiceOption:
    """One answer of a choice question: its value in the profile, labels per language and synonyms."""

    value: str
    labels: dict[str, str]
    synonyms: tuple[str, ...] = ()
    # On a screening question: the values other facts take when this option is not chosen ("no idle variety
    # revived" means its sales are 0), so their questions need not be asked.
    if_not_chosen: tuple[tuple[str, Any], ...] = ()

    def label(self, language: str = DEFAULT_LANGUAGE) -> str:
        return localized(self.labels, language)


@dataclass(frozen=True, eq=False)
class Question:
    """One fact of the profile vocabulary and how to ask for it."""

    fact: str
    type: str
    label: dict[str, str]
    text: dict[str, str]
    help: dict[str, str]
    options: tuple[ChoiceOption, ...] = ()
    order: int = 0
    # A screening question offers the options of these multi-choice facts beside its own, and answers them all
    # at once: one checklist of the year's events instead of a question per kind of event.
    screens: tuple[str, ...] = ()
    # A yes/no step the enterprise itself can take (producing in the province, finishing a project on time): a
    # rule failing on it alone is a near miss worth showing.
    controllable: bool = False
    # A money question whose text invites "没有" (none) for 0: "没有请回答0".
    none_is_zero: bool = False

    @property
    def screening(self) -> bool:
        """Asks for other facts at once rather than for a fact rules test."""
        return bool(self.screens) or any(option.if_not_chosen for option in self.options)

    def option(self, value: str) -> ChoiceOption | None:
        return next((o for o in self.options if o.value == value), None)

    def short_label(self, language: str = DEFAULT_LANGUAGE) -> str:
        return localized(self.label, language)


@dataclass(frozen=True)
class Catalogue:
    """The question catalogue: every fact a rule, a profile or a test may use."""

    questions: dict[str, Question]

    def __contains__(self, fact: str) -> bool:
        return fact in self.questions

    def __getitem__(self, fact: str) -> Question:
        return self.questions[fact]

    def __len__(self) -> int:
        return len(self.questions)


@dataclass(frozen=True)
class Document:
    """A source policy document shipped under data/policies/."""

    id: str
    title: str
    file: str
    region: str
    issuer: str | None = None
    published: date | None = None
    text: str = field(default="", repr=False)


@dataclass(frozen=True)
class Reward:
    """What a rule grants: its kind and amount as the source states it (cap, range, per variety, formula)."""

    kind: str
    cap: int | None = None
    minimum: int | None = None
    per_variety: bool = False
    formula: tuple[str | Decimal, ...] = ()
    note: Texts | None = None

    def formula_facts(self) -> tuple[str, ...]:
        return tuple(f for f in self.formula if isinstance(f, str))


@dataclass(frozen=True)
class Deadline:
    """A dated step: a submission date stated in a document (with its label), or an application call closing."""

    date: date
    label: Texts | None = None
    opens: date | None = None
    call: ApplicationCall | None = None


@dataclass(frozen=True)
class Rule:
    """One incentive clause of a source document, encoded so the engine can test a profile against it."""

    id: str
    title: str
    document: Document
    clause: str
    quote: str
    region: str
    condition: Condition | None
    reward: Reward
    department: str | None = None
    materials: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None
    note: Texts | None = None
    path: str = ""
    line: int = 0
    column: int = 0
    horizon: Horizon | None = None  # the policy's own stated end ("到2025年"), from its rule file


@dataclass(frozen=True)
class Horizon:
    """The period a policy says it runs for ("到2025年"): the last day, and the words of the source that say so.
    Past it, a result from the policy is shown with a word to check the policy is still in force."""

    until: date
    quote: str


@dataclass(frozen=True)
class ApplicationCall:
    """A yearly application call (申报通知): the dates within which some rules can be applied for."""

    id: str
    title: str
    rules: tuple[str, ...]
    closes: date
    opens: date | None = None
    where: str | None = None
    example: bool = False
    path: str = ""  # the file it comes from, or the notice that carried it
    contact: str | None = None


@dataclass(frozen=True)
class RuleSet:
    """Everything loaded from a rules folder, ready to match profiles against."""

    catalogue: Catalogue
    documents: dict[str, Document]
    rules: tuple[Rule, ...]
    calls: tuple[ApplicationCall, ...] = ()
    version: str = ""  # a hash of every text it was compiled from: the same files, the same version

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

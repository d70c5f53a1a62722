"""What a reward is worth for a profile: cap, range, per-variety cap or a formula estimate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.model import REWARD_KINDS, Catalogue, Reward
from bot.engine.money import format_money, format_rate


@dataclass(frozen=True)
class Amount:
    """An amount as the source allows it: never more precise than the clause and the facts permit."""

    max_yuan: int | None
    min_yuan: int | None
    estimate_yuan: int | None
    text: str


def _factor_text(factor: str | float, catalogue: Catalogue) -> str:
    if isinstance(factor, str):
        return catalogue[factor].short_label()
    return format_rate(factor) if factor < 1 else f"{factor:g}"


def reward_amount(reward: Reward, profile: Mapping[str, Any], catalogue: Catalogue) -> Amount:
    """The amount of a reward for this profile; 'up to' stays a cap, never a promise."""
    if reward.kind in ("tax_measure", "non_cash"):
        return Amount(None, None, None, REWARD_KINDS[reward.kind])
    cap = reward.cap
    cap_text = f"{'每个品种' if reward.per_variety else ''}最高{format_money(cap)}" if cap is not None else ""
    if reward.formula:
        return _formula_amount(reward, profile, catalogue, cap_text)
    if reward.minimum is not None and cap is not None:
        return Amount(cap, reward.minimum, None, f"{format_money(reward.minimum)}—{format_money(cap)}")
    if cap is not None:
        return Amount(cap, None, None, cap_text)
    return Amount(None, None, None, "原文未写明金额")


def _formula_amount(reward: Reward, profile: Mapping[str, Any], catalogue: Catalogue, cap_text: str) -> Amount:
    how = " × ".join(_factor_text(f, catalogue) for f in reward.formula)
    product = 1.0
    for factor in reward.formula:
        value = profile.get(factor) if isinstance(factor, str) else factor
        if value is None:
            suffix = f",{cap_text}" if cap_text else ""
            return Amount(reward.cap, None, None, f"按 {how} 计算{suffix}")
        product *= value
    estimate = int(round(product if reward.cap is None else min(product, reward.cap)))
    detail = f"{how} = {format_money(int(round(product)))}"
    if reward.cap is not None and product > reward.cap:
        detail += f",超过上限,按{format_money(reward.cap)}计"
    elif reward.cap is not None:
        detail += f",上限{format_money(reward.cap)}"
    return Amount(reward.cap, None, estimate, f"约{format_money(estimate)}({detail})")

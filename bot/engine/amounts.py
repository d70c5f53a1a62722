"""What a reward is worth for a profile: cap, range, per-variety cap or a formula estimate, in whole yuan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.engine.model import AMOUNTLESS_KINDS, Reward


@dataclass(frozen=True)
class Amount:
    """An amount as the source allows it: never more precise than the clause and the facts permit.

    `product` is the formula's result before the cap (None without a formula or while a factor is unknown);
    `estimate_yuan` is that result capped. Handlers word it ("最高200万元", "约87万元(…)", "up to 2 million yuan").
    """

    reward: Reward
    max_yuan: int | None
    min_yuan: int | None
    estimate_yuan: int | None
    product: int | None = None

    @property
    def capped(self) -> bool:
        """The formula gives more than the cap, so the cap is what may be paid."""
        cap = self.reward.cap
        return cap is not None and self.product is not None and self.product > cap


def whole_yuan(value: Decimal) -> int:
    """Rounds to whole yuan the way amounts are written: half a yuan and more rounds up."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reward_amount(reward: Reward, profile: Mapping[str, Any]) -> Amount:
    """The amount of a reward for this profile; 'up to' stays a cap, never a promise."""
    if reward.kind in AMOUNTLESS_KINDS:
        return Amount(reward, None, None, None)
    if reward.formula:
        product = formula_product(reward.formula, profile)
        if product is None:
            return Amount(reward, reward.cap, None, None)
        estimate = product if reward.cap is None else min(product, reward.cap)
        return Amount(reward, reward.cap, None, estimate, product)
    return Amount(reward, reward.cap, reward.minimum, None)


def formula_product(formula: tuple[str | Decimal, ...], profile: Mapping[str, Any]) -> int | None:
    """The product of the formula's facts and numbers in whole yuan, or None while a fact is unknown.

    Computed in Decimal: a float product of 2000万 and 4.35% is 869999.9999999999, not 870000.
    """
    product = Decimal(1)
    for factor in formula:
        value = profile.get(factor) if isinstance(factor, str) else factor
        if value is None:
            return None
        product *= value if isinstance(value, Decimal) else Decimal(str(value))
    return whole_yuan(product)

"""Formatting of yuan amounts and rates the way Chinese policy texts write them."""

from __future__ import annotations

WAN = 10_000
YI = 100_000_000


def _trim(number: float) -> str:
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def format_money(yuan: int | float) -> str:
    """12亿元, 3000万元, 1.5亿元, 80万元, 2,500元: the unit a reader of the policy would expect."""
    if yuan >= YI and yuan % (YI // 100) == 0:
        return f"{_trim(yuan / YI)}亿元"
    if yuan >= WAN and yuan % (WAN // 100) == 0:
        return f"{_trim(yuan / WAN)}万元"
    return f"{int(round(yuan)):,}元"


def format_rate(fraction: float) -> str:
    """0.0435 as 4.35%."""
    return f"{_trim(fraction * 100)}%"

"""Where the shipped rules/ and data/ folders and the default SQLite database are, for every kind of install."""

from __future__ import annotations

from pathlib import Path

# A wheel carries the folders inside the package (pyproject.toml maps rules/ to bot.rules and data/ to bot.data).
_PACKAGE_DIR = Path(__file__).resolve().parent
# An editable install or a run from a checkout has no copy inside the package: admins edit the folders in place at
# the checkout's top level, and the bot must read those very files, not a stale copy.
_CHECKOUT_DIR = Path(__file__).resolve().parents[1]

# The one default SQLite file for `incentive-bot serve`, `incentive-bot db upgrade` and alembic (migrations/env.py),
# so all three open the same database. It is relative to the working directory because an installed package has no
# writable folder of its own.
DEFAULT_DATABASE_FILE = Path("incentive-bot.sqlite3")


def _shipped_dir(name: str, setting: str, option: str) -> Path:
    # Package first: in a wheel install the second candidate is site-packages/<name>, which may belong to some other
    # distribution.
    for candidate in (_PACKAGE_DIR / name, _CHECKOUT_DIR / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"the {name}/ folder is missing: looked in {_PACKAGE_DIR / name} (installed package) and "
        f"{_CHECKOUT_DIR / name} (checkout); set {setting} or pass {option} to say where it is"
    )


def shipped_rules_dir() -> Path:
    """The rules/ folder that came with the bot: inside the installed package, else at the checkout's top level."""
    return _shipped_dir("rules", "RULES_DIR", "--rules")


def shipped_data_dir() -> Path:
    """The data/ folder that came with the bot: inside the installed package, else at the checkout's top level."""
    return _shipped_dir("data", "DATA_DIR", "--data")

"""Lets `python -m bot` run the incentive-bot command."""

from bot.cli import main

raise SystemExit(main())

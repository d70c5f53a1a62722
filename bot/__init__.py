"""The incentive bot: tells enterprises which government incentives they may apply for."""

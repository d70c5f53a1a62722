"""What operators watch, in Prometheus' terms: updates and replies by channel, reply latency, deliveries, rules,
errors. Labels name channels, kinds and states only, never a chat, a user or anything a contact wrote."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.store.base import ChatStore

# The bot's own registry rather than the library's global one: the process's metrics are these, and nothing a
# library registers by importing it.
REGISTRY = CollectorRegistry()

UPDATES = Counter(
    "incentive_bot_updates", "Updates received (messages, commands, button presses), by channel", ["channel"],
    registry=REGISTRY,
)  # fmt: skip
REPLY_SECONDS = Histogram(
    "incentive_bot_reply_seconds",
    "Seconds from an update's arrival at the dispatcher until its replies are stored and ready to deliver",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "incentive_bot_messages_sent", "Messages delivered, by channel and kind (reply, notice, reminder)",
    ["channel", "kind"], registry=REGISTRY,
)  # fmt: skip
DELIVERY_PROBLEMS = Counter(
    "incentive_bot_delivery_problems",
    "Delivery attempts that did not deliver, by channel and outcome (retry, blocked, rejected, failed, ambiguous)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
OUTBOX = Gauge("incentive_bot_outbox_messages", "Messages in the outbox, by state", ["state"], registry=REGISTRY)
RULES = Gauge(
    "incentive_bot_rules_info", "The rule set in use (value 1), labelled with its version", ["version"],
    registry=REGISTRY,
)  # fmt: skip
ERRORS = Counter("incentive_bot_errors", "Unexpected errors, by where they happened", ["where"], registry=REGISTRY)

CONTENT_TYPE = CONTENT_TYPE_LATEST


async def exposition(store: ChatStore, rules_version: str) -> bytes:
    """The metrics in the Prometheus text format, with the outbox counted and the rule set's version as of now."""
    counts = await store.delivery_counts()
    OUTBOX.clear()
    for state, count in counts.items():
        OUTBOX.labels(state).set(count)
    RULES.clear()
    RULES.labels(rules_version or "unknown").set(1)
    return generate_latest(REGISTRY)

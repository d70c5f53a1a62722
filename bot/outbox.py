"""Delivers what the outbox holds through each channel: at once when it can, retrying until the platform is back."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.messages import Delivery
from bot.store.base import ChatStore, DeliveryOutcome

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The platform could not take the message now (overloaded, down, unreachable); `after` in seconds if it said."""

    def __init__(self, reason: str, after: float | None = None):
        super().__init__(reason)
        self.after = after


class Blocked(Exception):
    """The contact blocked the bot or left the chat: nothing can be sent there."""


class Rejected(Exception):
    """The platform refused the message itself; sending it again would be refused again."""


class Sender(Protocol):
    """A channel's way of showing one message in a chat; raises RetryLater, Blocked or Rejected."""

    async def send(self, delivery: Delivery) -> None: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long and how often to retry, and how much to take at once."""

    give_up_after_seconds: float = 900.0  # a reply older than this is stale: the contact is asked again instead
    lease_seconds: float = 30.0  # longer than any single send may take, so no other worker sends it meanwhile
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 5.0
    batch: int = 64
    poll_seconds: float = 0.5
    keep_finished_seconds: float = 3600.0  # applied updates and sent messages are deleted after this


class Deliverer:
    """Sends leased deliveries in order per chat, retries with backoff, and runs the worker that picks up the rest.

    A 429 pauses every send of this process for as long as the platform asks, as Telegram means it. A failure
    to deliver leaves the message in the outbox for a later attempt by whichever worker is free; a reply that
    cannot be delivered within the policy's bound is given up, and its chat is asked again on its next message.
    """

    def __init__(self, store: ChatStore, senders: dict[str, Sender], policy: DeliveryPolicy | None = None):
        self.store, self.senders = store, senders
        self.policy = policy or DeliveryPolicy()
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._last_prune = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def send_now(self, deliveries: Sequence[Delivery]) -> None:
        """Sends one chat's deliveries in order; what cannot be sent now is left to the worker."""
        sent: list[int] = []
        for index, delivery in enumerate(deliveries):
            if not await self._attempt(delivery, sent):
                for waiting in deliveries[index + 1 :]:
                    await self.store.retry_delivery(waiting.id, 0.0, "waiting behind an earlier message")
                self.wake()
                break
        await self.store.finish_deliveries(sent, DeliveryOutcome.SENT)

    async def _attempt(self, delivery: Delivery, sent: list[int]) -> bool:
        """One attempt; True if the message went out (it is then added to `sent`)."""
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        sender = self.senders.get(delivery.chat.channel)
        if sender is None:
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.REJECTED, "no such channel here")
            return True  # nothing can ever send it; what follows it must not wait behind it
        try:
            await sender.send(delivery)
        except RetryLater as exc:
            await self._retry(delivery, exc)
            return False
        except Blocked as exc:
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.BLOCKED, str(exc)[:500])
            await self.store.set_active(delivery.chat, False)
            log.info("chat %s blocked the bot; marked inactive", delivery.chat)
            return True
        except Rejected as exc:
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.REJECTED, str(exc)[:500])
            log.warning("message %s to chat %s was rejected: %s", delivery.id, delivery.chat, exc)
            return True
        sent.append(delivery.id)
        return True

    async def _retry(self, delivery: Delivery, problem: RetryLater) -> None:
        if problem.after is not None:
            self._paused_until = max(self._paused_until, time.monotonic() + problem.after)
            delay = problem.after
        else:
            backoff = self.policy.first_backoff_seconds * 2 ** min(delivery.attempts, 10)
            delay = min(self.policy.max_backoff_seconds, backoff) * random.uniform(0.5, 1.0)
        log.warning("message %s to chat %s not delivered (%s); retrying in %.1f s", delivery.id, delivery.chat,
                    problem, delay)  # fmt: skip
        await self.store.retry_delivery(delivery.id, delay, str(problem)[:500])

    async def run(self, stop: asyncio.Event) -> None:
        """The worker: sends whatever is due until `stop` is set; each chat's messages in order."""
        while not stop.is_set():
            try:
                claimed = await self._deliver_due()
                await self._prune_now_and_then()
            except Exception:
                log.exception("the delivery worker failed; trying again shortly")
                claimed = 0
            # Each claim takes one message per chat, so a chat with several waiting goes round again at once;
            # only a round that found nothing due waits for a wake-up or the next poll.
            if claimed == 0:
                await self._sleep(stop)

    async def _deliver_due(self) -> int:
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        claimed = await self.store.claim_deliveries(self.owner, self.policy.batch, self.policy.lease_seconds)
        by_chat: dict[object, list[Delivery]] = defaultdict(list)
        for delivery in claimed:
            by_chat[delivery.chat].append(delivery)
        await asyncio.gather(*(self._deliver_claimed(chat_deliveries) for chat_deliveries in by_chat.values()))
        return len(claimed)

    async def _deliver_claimed(self, deliveries: list[Delivery]) -> None:
        fresh = []
        for delivery in deliveries:
            if delivery.kind == "reply" and delivery.age_seconds > self.policy.give_up_after_seconds:
                reason = f"not delivered within {self.policy.give_up_after_seconds:.0f} s"
                await self.store.finish_deliveries([delivery.id], DeliveryOutcome.FAILED, reason)
            else:
                fresh.append(delivery)
        if fresh:
            await self.send_now(fresh)

    async def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune > 60:
            self._last_prune = time.monotonic()
            await self.store.prune(self.policy.keep_finished_seconds)

    async def _sleep(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

"""Delivers what the outbox holds through each channel: at once when it can, retrying until the platform is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import metrics
from bot.messages import Delivery, Outgoing
from bot.store.base import ChatStore, DeliveryOutcome

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The platform could not take the message now (overloaded, down, unreachable); `after` in seconds if it said.

    `maybe_sent` says the request may have reached the platform before the failure (a timeout, a connection
    dropped after the request went out): a notice is then not sent again, since it may have arrived.
    """

    def __init__(self, reason: str, after: float | None = None, maybe_sent: bool = False):
        super().__init__(reason)
        self.after = after
        self.maybe_sent = maybe_sent


class Blocked(Exception):
    """The contact blocked the bot or left the chat: nothing can be sent there."""


class Rejected(Exception):
    """The platform refused the message itself; sending it again would be refused again."""


class Sender(Protocol):
    """A channel's way of showing one message in a chat; raises RetryLater, Blocked or Rejected."""

    async def send(self, delivery: Delivery) -> None: ...

    async def check(self) -> None:
        """Returns once the platform answers a harmless request; raises RetryLater while it does not."""

    def messages(self, outgoing: Outgoing) -> int:
        """How many messages showing it takes (each counts against the rate limit)."""


PREFETCH_AT = 8  # messages before the end of a batch at which the next one is claimed


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long and how often to retry, and how much to take at once."""

    give_up_after_seconds: float = 900.0  # a reply older than this is stale: the contact is asked again instead
    lease_seconds: float = 30.0  # longer than any single send may take, so no other worker sends it meanwhile
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 5.0
    batch: int = 64
    poll_seconds: float = 0.5
    keep_finished_seconds: float = 3600.0  # applied updates and sent replies are deleted after this
    # Notices and reminders: sent one at a time per worker, so at most one can be in doubt when a worker dies.
    rate_margin: float = 0.97  # of a channel's rate limit, so clock jitter never takes a second over the limit
    chat_interval_seconds: float = 1.0  # between two messages to one chat (Telegram: about 1/s)
    group_interval_seconds: float = 3.0  # between two messages to one group (Telegram: 20/min)
    bulk_batch: int = 64
    bulk_lease_seconds: float = 30.0  # a claimed row another worker may take over once this has passed
    sending_lease_seconds: float = 60.0  # longer than any send may take: a row still sending then is ambiguous
    bulk_attempts: int = 8  # network errors and 5xx: tries before the row fails with the error kept
    bulk_max_backoff_seconds: float = 60.0


class Deliverer:
    """Sends leased deliveries in order per chat, retries with backoff, and runs the worker that picks up the rest.

    A 429 pauses every send of this process for as long as the platform asks, as Telegram means it. A failure
    to deliver leaves the message in the outbox for a later attempt by whichever worker is free; a reply that
    cannot be delivered within the policy's bound is given up, and its chat is asked again on its next message.
    """

    def __init__(
        self,
        store: ChatStore,
        senders: dict[str, Sender],
        policy: DeliveryPolicy | None = None,
        rates: dict[str, float] | None = None,
        confirm: dict[str, Callable[[Delivery], Awaitable[str | None]]] | None = None,
    ):
        self.store, self.senders = store, senders
        # By kind ("reminder"): asked just before a bulk message is sent; a reason not to send it withdraws it.
        self.confirm = confirm or {}
        self.policy = policy or DeliveryPolicy()
        # Messages per second each channel allows the bot as a whole (every process together); none: no limit.
        self.rates = rates or {}
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._bulk_wake = asyncio.Event()
        self._paused_until = 0.0
        self._last_prune = 0.0
        self._sent: int | None = None  # the notice row whose message went out, not yet recorded sent
        self._booking: asyncio.Future[float] | None = None  # the next notice message's slot, being booked
        self._stop = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()
        self._bulk_wake.set()

    def _interval(self, channel: str) -> float:
        rate = self.rates.get(channel)
        return 1.0 / (rate * self.policy.rate_margin) if rate else 0.0

    def _late_ok(self, channel: str) -> float:
        """How late a slot may still be used. Sent late, a message moves into later one-second windows than its
        slot; with room for a few more than the booked rate (300/s: yes; 30/s: no), a late slot is used rather
        than wasted."""
        return 1.0 if self.rates.get(channel, 0) * (1 - self.policy.rate_margin) >= 5 else 0.0

    async def _wait_for_slot(self, channel: str, bulk: bool) -> None:
        """Waits for the channel's next sending slot: a reply takes the next one whatever is booked, so it waits at
        most for the few notices booked ahead; a bulk message waits until it may book one."""
        start = await self._book_slot(channel, bulk)
        if start > time.monotonic():
            await asyncio.sleep(start - time.monotonic())

    async def _book_slot(self, channel: str, bulk: bool) -> float:
        """Books the channel's next sending slot; returns when it starts (time.monotonic())."""
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            if bulk:
                await self._record_sent()
            await asyncio.sleep(pause)
        interval = self._interval(channel)
        if not interval:
            return 0.0
        while True:
            taken, wait = await self.store.take_send_slot(channel, interval, bulk)
            if wait > 1.0 and bulk:
                await self._record_sent()  # a long hold: the message before it must not wait in `sending`
            if taken:
                return time.monotonic() + wait
            await asyncio.sleep(wait)

    async def _slow_down(self, channel: str, seconds: float) -> None:
        """The platform said 429: every send of every process waits as long as it asked."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        await self.store.hold_sending(channel, seconds)

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
        sender = self.senders.get(delivery.chat.channel)
        if sender is None:
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.REJECTED, "no such channel here")
            return True  # nothing can ever send it; what follows it must not wait behind it
        # A reply too long for one message goes as several, each taking a slot; a toast alone takes none.
        for _ in range(sender.messages(delivery.outgoing)):
            await self._wait_for_slot(delivery.chat.channel, bulk=False)
        channel = delivery.chat.channel
        try:
            await sender.send(delivery)
        except RetryLater as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, "retry").inc()
            await self._retry(delivery, exc)
            return False
        except Blocked as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, DeliveryOutcome.BLOCKED).inc()
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.BLOCKED, str(exc)[:500])
            await self.store.set_active(delivery.chat, False)
            log.info("chat %s blocked the bot; marked inactive", delivery.chat)
            return True
        except Rejected as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, DeliveryOutcome.REJECTED).inc()
            await self.store.finish_deliveries([delivery.id], DeliveryOutcome.REJECTED, str(exc)[:500])
            log.warning("message %s to chat %s was rejected: %s", delivery.id, delivery.chat, exc)
            return True
        metrics.MESSAGES_SENT.labels(channel, delivery.kind).inc()
        if not delivery.delivered:  # else the transaction that stored it recorded it sent
            sent.append(delivery.id)
        return True

    async def _retry(self, delivery: Delivery, problem: RetryLater) -> None:
        if problem.after is not None:
            await self._slow_down(delivery.chat.channel, problem.after)
            delay = problem.after
        else:
            backoff = self.policy.first_backoff_seconds * 2 ** min(delivery.attempts, 10)
            delay = min(self.policy.max_backoff_seconds, backoff) * random.uniform(0.5, 1.0)
        log.warning("message %s to chat %s not delivered (%s); retrying in %.1f s", delivery.id, delivery.chat,
                    problem, delay)  # fmt: skip
        await self.store.retry_delivery(delivery.id, delay, str(problem)[:500])

    async def run(self, stop: asyncio.Event) -> None:
        """The worker: sends whatever is due until `stop` is set; replies, and notices and reminders beside them."""
        self._stop = stop
        await asyncio.gather(self._run_replies(stop), self._run_bulk(stop))

    async def _run_replies(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self._deliver_due()
                await self._prune_now_and_then()
            except Exception:
                metrics.ERRORS.labels("delivery").inc()
                log.exception("the delivery worker failed; trying again shortly")
                claimed = 0
            # Each claim takes one message per chat, so a chat with several waiting goes round again at once;
            # only a round that found nothing due waits for a wake-up or the next poll.
            if claimed == 0:
                await self._sleep(stop, self._wake)

    async def _run_bulk(self, stop: asyncio.Event) -> None:
        """Sends notices and reminders one at a time: each is marked sending before its call and sent after it
        (with the start of the next, in one write), so a worker that dies leaves at most one in doubt, which is
        never sent again (see README)."""
        if not self.store.supports_notices:
            return
        policy = self.policy
        claiming: asyncio.Future[list[Delivery]] | None = None
        while not stop.is_set():
            claimed: list[Delivery] = []
            try:
                claimed = await claiming if claiming is not None else await self._claim_bulk(0)
                claiming = None
                for index, delivery in enumerate(claimed, 1):
                    if stop.is_set():
                        break
                    if index == len(claimed) - PREFETCH_AT and len(claimed) == policy.bulk_batch:
                        # The next batch is claimed while the last of this one go out, from past this one: the rows
                        # before it are sent, and a scan from the start would walk their dead versions.
                        claiming = asyncio.ensure_future(self._claim_bulk(claimed[-1].id))
                    slot = await self._next_bulk_slot(delivery.chat.channel, more=index < len(claimed))
                    await self._send_bulk(delivery, slot)
            except Exception:
                metrics.ERRORS.labels("delivery").inc()
                log.exception("the notice worker failed; trying again shortly")
                await self._drop(claiming)
                claiming = None
                await self._release_bulk()
            finally:
                await self._record_sent()
            if not claimed:
                await self._sleep(stop, self._bulk_wake)
        await self._drop(claiming)
        await self._drop(self._booking)  # a slot left unused
        await self._release_bulk()

    async def _claim_bulk(self, after: int) -> list[Delivery]:
        policy = self.policy
        intervals = (policy.group_interval_seconds, policy.chat_interval_seconds)
        return await self.store.claim_bulk(self.owner, policy.bulk_batch, policy.bulk_lease_seconds, intervals, after)

    @staticmethod
    async def _drop(task: asyncio.Future | None) -> None:
        """Waits for a task nobody will use the result of (a claim, a booking), so none is left running."""
        if task is not None:
            with contextlib.suppress(Exception):
                await task

    async def _next_bulk_slot(self, channel: str, more: bool) -> float:
        """The slot booked for this notice message, and, when `more` follow, the next one booked while this one is
        sent (a round trip less between two sends). A booking gone stale is not used: it would send two at once."""
        booking, self._booking = self._booking, None
        slot = await booking if booking is not None else None
        if slot is None or slot < time.monotonic() - max(self._interval(channel), self._late_ok(channel)):
            slot = await self._book_slot(channel, bulk=True)
        if more:
            self._booking = asyncio.ensure_future(self._book_slot(channel, bulk=True))
        return slot

    async def _record_sent(self) -> None:
        """Records the last message that went out as sent, if that is still to do; a failure leaves it for later."""
        if self._sent is None:
            return
        sent = self._sent
        try:
            await self.store.finish_bulk(sent, self.owner, DeliveryOutcome.SENT)
        except Exception:
            log.exception("could not record notice message %s as sent; trying again with the next one", sent)
            return
        if self._sent == sent:
            self._sent = None

    async def _release_bulk(self) -> None:
        """Rows claimed but not started go back at once, for this or another worker, instead of after the lease."""
        try:
            await self.store.release_bulk(self.owner)
        except Exception:
            log.exception("could not release claimed notices; they return after their lease")

    async def _send_bulk(self, delivery: Delivery, slot: float) -> None:
        """Sends one notice row in its booked slot (a time.monotonic())."""
        sender = self.senders.get(delivery.chat.channel)
        if sender is None:
            return  # another process serves that channel; the lease runs out and it takes the row
        sent = self._sent
        state = await self.store.start_sending(delivery.id, self.owner, self.policy.sending_lease_seconds, sent)
        if self._sent == sent:
            self._sent = None  # recorded with this start (kept for later if the write failed)
        if state != "sending":
            return  # cancelled, taken over, or its contact opted out or blocked the bot meanwhile
        if await self._withdrawn(delivery):
            return
        # The row is marked before the slot, so the send follows its slot at once: a database write that took
        # long must not push this message into the next slot's second beside the next process's message.
        channel = delivery.chat.channel
        if time.monotonic() - slot > max(self._interval(channel) / 2, self._late_ok(channel)):
            slot = await self._book_slot(channel, bulk=True)  # too late for its own slot: another one
        if slot > time.monotonic():
            await asyncio.sleep(slot - time.monotonic())
        try:
            await sender.send(delivery)
        except RetryLater as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, "ambiguous" if exc.maybe_sent else "retry").inc()
            await self._bulk_not_sent(delivery, sender, exc)
        except Blocked as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, DeliveryOutcome.BLOCKED).inc()
            await self.store.finish_bulk(delivery.id, self.owner, DeliveryOutcome.BLOCKED, str(exc)[:500])
        except Rejected as exc:
            metrics.DELIVERY_PROBLEMS.labels(channel, DeliveryOutcome.REJECTED).inc()
            await self.store.finish_bulk(delivery.id, self.owner, DeliveryOutcome.REJECTED, str(exc)[:500])
            log.warning("notice message %s to chat %s was rejected: %s", delivery.id, delivery.chat, exc)
        else:
            metrics.MESSAGES_SENT.labels(channel, delivery.kind).inc()
            self._sent = delivery.id  # recorded with the next start, or when the batch ends

    async def _withdrawn(self, delivery: Delivery) -> bool:
        """Asks whether a message of its kind is still wanted (a reminder whose deadline moved is not); one that is
        not is recorded cancelled with the reason and never sent."""
        confirm = self.confirm.get(delivery.kind)
        if confirm is None:
            return False
        try:
            reason = await confirm(delivery)
        except Exception:
            log.exception("could not check %s %s before sending it; trying again later", delivery.kind, delivery.id)
            await self.store.retry_bulk(delivery.id, self.owner, self.policy.bulk_max_backoff_seconds, "check failed")
            return True
        if reason is None:
            return False
        await self.store.finish_bulk(delivery.id, self.owner, DeliveryOutcome.CANCELLED, reason[:500])
        log.info("%s %s to chat %s not sent: %s", delivery.kind, delivery.id, delivery.chat, reason)
        return True

    async def _bulk_not_sent(self, delivery: Delivery, sender: Sender, problem: RetryLater) -> None:
        error = str(problem)[:500]
        if problem.maybe_sent:
            # It may have arrived: never sent again. Nothing more goes out until the platform answers again, so
            # an outage leaves one message in doubt, not one per attempt.
            await self.store.finish_bulk(delivery.id, self.owner, DeliveryOutcome.AMBIGUOUS, error)
            log.warning("notice message %s to chat %s may or may not have arrived (%s)", delivery.id, delivery.chat,
                        problem)  # fmt: skip
            await self._until_answering(sender)
            return
        if problem.after is not None:
            await self._slow_down(delivery.chat.channel, problem.after)
            await self.store.retry_bulk(delivery.id, self.owner, problem.after, error, counts=False)
            return
        if delivery.attempts + 1 >= self.policy.bulk_attempts:
            await self.store.finish_bulk(delivery.id, self.owner, DeliveryOutcome.FAILED, error)
            return
        backoff = min(self.policy.bulk_max_backoff_seconds, self.policy.first_backoff_seconds * 2**delivery.attempts)
        await self.store.retry_bulk(delivery.id, self.owner, backoff * random.uniform(0.5, 1.0), error)

    async def _until_answering(self, sender: Sender) -> None:
        delay = self.policy.first_backoff_seconds
        while not self._stop.is_set():
            try:
                await sender.check()
                return
            except RetryLater:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)  # a stop does not wait for the platform
                delay = min(self.policy.bulk_max_backoff_seconds, delay * 2)

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
                metrics.DELIVERY_PROBLEMS.labels(delivery.chat.channel, DeliveryOutcome.FAILED).inc()
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

    async def _sleep(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        wake.clear()
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

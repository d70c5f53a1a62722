"""Deadline reminders' I/O: finding the due ones in every contact's stored answers, queueing each once, and checking
each again just before it is sent. Which are due and what they say is handlers.reminders's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from bot.engine.engine import Engine
from bot.messages import Delivery
from bot.store.base import ChatStore
from bot.store.notices import Contact
from bot.store.reminders import NewReminder, ReminderKey
from handlers.reminders import ReminderPlan, due_reminders, reminder_message, still_due

log = logging.getLogger(__name__)

# Reminder rows of deadlines this long past are deleted: none of them can be due again.
KEEP_PAST_DAYS = 7
# A chat saved this long before the last look may not have been seen by it (a turn still committing, another
# process's clock a little behind): looked at again.
CHANGED_OVERLAP = timedelta(seconds=60)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReminderScheduler:
    """Queues the reminders that are due, from every process on the database (each is queued once whichever
    process finds it first), and tells the deliverer whether a reminder is still wanted when its turn comes."""

    def __init__(
        self,
        store: ChatStore,
        engine: Callable[[], Engine],
        plan: ReminderPlan,
        clock: Callable[[], datetime] = utc_now,
        every: float = 60.0,
        queued: Callable[[], None] | None = None,
        wall: Callable[[], datetime] = utc_now,
        overlap: timedelta = CHANGED_OVERLAP,
    ):
        self.store, self._engine, self.plan, self._clock, self.every = store, engine, plan, clock, every
        self._queued = queued  # called when reminders were queued (wakes the deliverer)
        self._wall = wall  # the clock chats' saves are stamped with (the scheduler's own may be another, in tests)
        self._overlap = overlap
        self._pruned: date | None = None
        # What the last look at every contact covered: from when, until when the clock alone changes nothing,
        # with which rules; and since when chats saved after it must be looked at.
        self._looked: tuple[datetime, datetime, str] | None = None
        self._changed_since: datetime | None = None
        self.last_matched = 0  # how many contacts the last look matched

    async def queue_due(self) -> int:
        """Works out which reminders are due now from the contacts' stored answers and the rules in use, and
        queues those not queued before; returns how many it queued.

        Every contact is matched when the clock may have made reminders due (at the time of day they go out, and
        at midnight, in China), when the rules changed, and at the first look; in between only the contacts whose
        chat was saved since the last look, as only their answers or subscription can have changed.
        """
        if not self.store.supports_notices or not self.plan.days_before:
            return 0
        moment, started = self._clock(), self._wall()
        engine = self._engine()
        today = self.plan.today(moment)
        looked = self._looked
        everyone = looked is None or not looked[0] <= moment < looked[1] or looked[2] != engine.version
        contacts = await self.store.contacts(None if everyone else self._changed_since)
        found: list[NewReminder] = []
        if contacts:  # a quiet minute between the day's turns asks nothing more of the database
            queued = await self.store.queued_reminders(today)
            # Matching every contact takes a while with many of them: off the event loop, so replies are not held up.
            found = await asyncio.to_thread(self._due, contacts, engine, moment, queued)
        self.last_matched = len(contacts)
        count = await self.store.queue_reminders(found)
        if everyone:
            self._looked = (moment, self.plan.next_turn(moment), engine.version)
        self._changed_since = started - self._overlap
        if count:
            log.info("queued %d deadline reminder(s)", count)
            if self._queued is not None:
                self._queued()
        if self._pruned != today:
            await self.store.prune_reminders(today - timedelta(days=KEEP_PAST_DAYS))
            self._pruned = today
        return count

    def _due(
        self, contacts: Iterable[Contact], engine: Engine, moment: datetime, queued: set[ReminderKey]
    ) -> list[NewReminder]:
        today = self.plan.today(moment)
        found = []
        for contact in contacts:
            # Group chats never get reminders (the interview runs in private chats), nor those who opted out.
            if contact.chat.id < 0 or not contact.subscribed or not contact.active or not contact.answers:
                continue
            match = engine.match(contact.answers, today)
            for due in due_reminders(match, moment, self.plan):
                key = ReminderKey(contact.chat, due.rule_id, due.deadline, due.days_before)
                if key not in queued:
                    found.append(NewReminder(key, reminder_message(match, due, contact.language)))
        return found

    async def confirm(self, delivery: Delivery) -> str | None:
        """Just before a reminder is sent: None when it is still to be sent; otherwise why not (the deadline moved,
        the reward no longer matches the contact's answers, or the contact is gone)."""
        key = await self.store.reminder_of(delivery.id)
        if key is None:
            return "the reminder is no longer stored"
        state = await self.store.load(delivery.chat)
        if state.new:
            return "the contact asked to be forgotten"
        if not state.subscribed or not state.active:
            return "the contact opted out or blocked the bot"
        moment = self._clock()
        match = self._engine().match(state.answers, self.plan.today(moment))
        if still_due(match, moment, self.plan, key.rule_id, key.deadline, key.days_before):
            return None
        return "withdrawn: the deadline moved, the reward no longer matches, or a later reminder is due instead"

    async def run(self, stop: asyncio.Event) -> None:
        """Queues due reminders every `every` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                await self.queue_due()
            except Exception:
                log.exception("could not queue deadline reminders; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

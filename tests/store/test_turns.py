"""Every store applies a chat's updates in order, once, with their replies in the outbox: the same for each backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.dispatcher import Dispatcher
from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.base import ChatState, ChatStore, DeliveryOutcome

pytestmark = pytest.mark.asyncio
CHAT = ChatKey("telegram", 4242)


class Recorder:
    """A handler that remembers what it was told, in order, and echoes it."""

    def handle(self, incoming: Incoming, state: ChatState):
        state.answers.setdefault("log", []).append(incoming.text)
        return _Reply([Outgoing(f"got {incoming.text}")], incoming.text == "forget")


class _Reply:
    def __init__(self, messages: list[Outgoing], forget: bool = False):
        self.messages, self.forget = messages, forget


def said(text: str, update_id: int) -> Incoming:
    return Incoming(CHAT, text=text, update_id=update_id)


def dispatcher_on(store: ChatStore, owner: str = "p1") -> Dispatcher:
    return Dispatcher(store, Recorder(), owner=owner)


async def test_updates_in_order_are_applied_in_order_with_one_reply_each(store: ChatStore) -> None:
    dispatcher = dispatcher_on(store)
    replies = [await dispatcher.handle(said(text, n)) for n, text in enumerate(["a", "b", "c"], 1)]
    assert [[o.text for o in batch] for batch in replies] == [["got a"], ["got b"], ["got c"]]
    assert (await store.load(CHAT)).answers["log"] == ["a", "b", "c"]


async def test_an_update_arriving_after_a_later_one_is_put_back_in_its_place(
    open_store: Callable[[], ChatStore],
) -> None:
    first, second = dispatcher_on(open_store(), "p1"), dispatcher_on(open_store(), "p2")
    await first.handle(said("a", 1))
    await first.handle(said("c", 3))
    replayed = await second.handle(said("b", 2))
    assert [o.text for o in replayed] == ["got b", "got c"]
    assert (await first.store.load(CHAT)).answers["log"] == ["a", "b", "c"]
    assert [o.text for o in await first.handle(said("d", 4))] == ["got d"]
    assert (await first.store.load(CHAT)).answers["log"] == ["a", "b", "c", "d"]


async def test_an_update_delivered_twice_is_applied_once(open_store: Callable[[], ChatStore]) -> None:
    first, second = dispatcher_on(open_store(), "p1"), dispatcher_on(open_store(), "p2")
    assert len(await first.handle(said("a", 7))) == 1
    assert await second.handle(said("a", 7)) == []
    assert (await first.store.load(CHAT)).answers["log"] == ["a"]


async def test_replies_wait_behind_an_undelivered_earlier_reply_of_the_chat(store: ChatStore) -> None:
    dispatcher = dispatcher_on(store)
    first = await dispatcher.receive(said("a", 1))
    await store.retry_delivery(first[0].id, 0.0, "Bad Gateway")
    assert await dispatcher.receive(said("b", 2)) == [], "sent before the earlier reply"
    claimed = await store.claim_deliveries("worker", 10, 60)
    assert [d.outgoing.text for d in claimed] == ["got a"], "one per chat, oldest first"
    await store.finish_deliveries([claimed[0].id], DeliveryOutcome.SENT)
    claimed = await store.claim_deliveries("worker", 10, 60)
    assert [d.outgoing.text for d in claimed] == ["got b"]


async def test_a_reply_given_up_makes_the_chat_undelivered(store: ChatStore) -> None:
    dispatcher = dispatcher_on(store)
    delivery = (await dispatcher.receive(said("a", 1)))[0]
    await store.finish_deliveries([delivery.id], DeliveryOutcome.FAILED, "down for too long")
    assert (await store.load(CHAT)).undelivered is True
    assert (await store.delivery_counts()).get("failed") == 1


async def test_a_leased_reply_is_not_claimed_by_another_worker_until_its_lease_ends(store: ChatStore) -> None:
    dispatcher = dispatcher_on(store)
    await dispatcher.receive(said("a", 1))
    assert await store.claim_deliveries("other", 10, 60) == []


async def test_forgetting_removes_the_updates_and_messages_of_the_chat(store: ChatStore) -> None:
    dispatcher = dispatcher_on(store)
    await dispatcher.handle(said("a", 1))
    replies = await dispatcher.receive(said("forget", 2))
    assert [d.outgoing.text for d in replies] == ["got forget"]
    stored = await store.load(CHAT)
    assert stored.new and stored.answers == {}
    assert await store.delivery_counts() == {"pending": 1}, "only the confirmation is left to send"


WEB_CHAT = ChatKey("web", 4242)


def web_dispatcher_on(store: ChatStore, owner: str = "p1") -> Dispatcher:
    return Dispatcher(store, Recorder(), owner=owner, shown_from_outbox=frozenset({"web"}))


async def test_a_web_reply_is_stored_delivered_by_its_turn_and_readable_by_any_process(
    open_store: Callable[[], ChatStore],
) -> None:
    """What a browser's long poll in another process reads is there as soon as the turn is, with nothing to send."""
    here, elsewhere = web_dispatcher_on(open_store(), "p1"), open_store()
    replies = await here.receive(Incoming(WEB_CHAT, text="a"))
    assert [d.outgoing.text for d in replies] == ["got a"] and all(d.delivered for d in replies)
    assert [d.outgoing.text for d in await elsewhere.delivered(WEB_CHAT)] == ["got a"]
    assert await elsewhere.claim_deliveries("worker", 10, 0) == []
    assert (await elsewhere.delivery_counts()).get("pending", 0) == 0


async def test_a_web_reply_behind_an_undelivered_earlier_message_waits_its_turn(store: ChatStore) -> None:
    telegram_like = Dispatcher(store, Recorder(), owner="p1")
    earlier = await telegram_like.receive(Incoming(WEB_CHAT, text="a"))
    await store.retry_delivery(earlier[0].id, 0.0, "not shown yet")
    dispatcher = web_dispatcher_on(store)
    assert await dispatcher.receive(Incoming(WEB_CHAT, text="b")) == [], "shown before the earlier message"
    assert await store.delivered(WEB_CHAT) == []
    claimed = await store.claim_deliveries("worker", 10, 60)
    assert [d.outgoing.text for d in claimed] == ["got a"] and not claimed[0].delivered


class FailsOn:
    """Records like Recorder, but fails on one text, after changing the state, as a handler with a bug would."""

    def __init__(self, text: str):
        self.text = text

    def handle(self, incoming: Incoming, state: ChatState):
        state.answers.setdefault("log", []).append(incoming.text)
        if incoming.text == self.text:
            raise RuntimeError("a bug in the handler")
        return _Reply([Outgoing(f"got {incoming.text}")])


@pytest.mark.parametrize("channel", ["telegram", "web"])
async def test_a_turn_that_fails_stores_nothing_and_the_next_update_goes_on(store: ChatStore, channel: str) -> None:
    chat = ChatKey(channel, 77)
    dispatcher = Dispatcher(store, FailsOn("b"), owner="p1", shown_from_outbox=frozenset({"web"}))
    await dispatcher.handle(Incoming(chat, text="a"))
    with pytest.raises(RuntimeError):
        await dispatcher.handle(Incoming(chat, text="b"))
    assert (await store.load(chat)).answers["log"] == ["a"]
    assert [o.text for o in await dispatcher.handle(Incoming(chat, text="c"))] == ["got c"]
    assert (await store.load(chat)).answers["log"] == ["a", "c"]

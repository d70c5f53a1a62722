"""Whatever arrives on a channel, turning it into an Incoming never fails: typed lines and Telegram updates."""

from __future__ import annotations

import inspect

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.channels import telegram as telegram_channel
from bot.channels import terminal
from bot.messages import Incoming

MAX_TEXT = 4096
TOKEN = "123456789:AAH-fuzzing-token_0123456789abcdef"
# de_json only needs a bot for the shortcut methods of what it builds; this one never makes a request.
BOT = Bot(TOKEN)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.one_of(
    st.text(max_size=MAX_TEXT),
    st.text(alphabet="/@ _abcstartSTART0123456789长春十二亿\n\t ", max_size=200),
    st.builds(
        lambda command, rest: f"/{command}{rest}",
        st.sampled_from(["start", "help", "results", "profile", "forget", "lang", "", "START", "start@"]),
        st.text(max_size=64),
    ),
    st.integers(3900, MAX_TEXT).map(lambda n: "1" * n),
    st.integers(0, 1365).map(lambda n: "十二亿" * n),
)
ids = st.integers(-(2**52), 2**52)
short = st.text(max_size=64)
user = st.fixed_dictionaries(
    {"id": st.integers(1, 2**52), "is_bot": st.booleans(), "first_name": short},
    optional={
        "language_code": st.one_of(st.sampled_from(["zh-hans", "zh-hant", "zh-TW", "en", "ru", ""]), short),
        "username": short,
        "last_name": short,
    },
)
chat = st.fixed_dictionaries(
    {"id": ids, "type": st.sampled_from(["private", "group", "supergroup", "channel", "sender"])},
    optional={"title": short, "first_name": short, "username": short, "is_forum": st.booleans()},
)
entity = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["bot_command", "mention", "bold", "url", "text_link", "hashtag", "custom_emoji"]),
        "offset": st.integers(0, 5000),
        "length": st.integers(0, 5000),
    },
    optional={"url": short, "custom_emoji_id": short, "language": short},
)
# Callback data is at most 64 bytes: 16 characters of any width, or 64 ASCII ones.
callback_data = st.one_of(st.text(max_size=16), st.text(alphabet=st.characters(max_codepoint=127), max_size=64))


def message_with(reply: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"message_id": st.integers(1, 2**31), "date": st.integers(0, 2**31), "chat": chat},
        optional={
            "from": user,
            "sender_chat": chat,
            "text": texts,
            "caption": texts,
            "entities": st.lists(entity, max_size=5),
            "caption_entities": st.lists(entity, max_size=3),
            "edit_date": st.integers(0, 2**31),
            "reply_to_message": reply,
            "sticker": st.fixed_dictionaries(
                {
                    "file_id": short,
                    "file_unique_id": short,
                    "type": st.just("regular"),
                    "width": st.integers(1, 512),
                    "height": st.integers(1, 512),
                    "is_animated": st.booleans(),
                    "is_video": st.booleans(),
                }
            ),
            "photo": st.lists(
                st.fixed_dictionaries(
                    {
                        "file_id": short,
                        "file_unique_id": short,
                        "width": st.integers(1, 99),
                        "height": st.integers(1, 99),
                    }
                ),
                max_size=2,
            ),
        },
    )


message = message_with(message_with(st.nothing()))
inaccessible_message = st.fixed_dictionaries({"message_id": st.integers(1, 2**31), "date": st.just(0), "chat": chat})
callback_query = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=20), "from": user, "chat_instance": short},
    optional={
        "data": callback_data,
        "message": st.one_of(message, inaccessible_message),
        "inline_message_id": short,
        "game_short_name": short,
    },
)
updates = st.fixed_dictionaries(
    {"update_id": st.integers(0, 2**31)},
    optional={
        "message": message,
        "edited_message": message,
        "channel_post": message,
        "edited_channel_post": message,
        "callback_query": callback_query,
    },
)


def takes_bot_username() -> bool:
    return "bot_username" in inspect.signature(telegram_channel.to_incoming).parameters


@FUZZ
@given(updates)
def test_any_telegram_update_becomes_an_incoming_or_is_ignored(data: dict) -> None:
    update = Update.de_json(data, BOT)
    calls = [lambda: telegram_channel.to_incoming(update)]
    if takes_bot_username():
        calls.append(lambda: telegram_channel.to_incoming(update, bot_username="fake_incentive_bot"))
    for call in calls:
        incoming = call()
        if incoming is None:
            continue
        assert isinstance(incoming, Incoming)
        assert incoming.chat == telegram_channel.chat_key(update.effective_chat.id)
        assert len(incoming.text) <= MAX_TEXT
        assert incoming.callback_data is None or isinstance(incoming.callback_data, str)


choices = st.lists(st.text(min_size=1, max_size=64), max_size=20)
lines = st.one_of(
    st.text(max_size=MAX_TEXT),
    st.integers(0, 10**6).map(str),
    st.integers(3900, MAX_TEXT).map(lambda n: "7" * n),
    st.builds(
        lambda digits, pad: f"{pad}{digits}{pad}\n", st.integers(0, 999).map(str), st.sampled_from(["", " ", "\t"])
    ),
    st.text(alphabet="/0123456789١٢٣０１２ \n", max_size=64),
)


@FUZZ
@given(lines, choices)
def test_any_typed_line_becomes_an_incoming(line: str, buttons: list[str]) -> None:
    incoming = terminal.to_incoming(line, buttons)
    assert isinstance(incoming, Incoming) and incoming.chat == terminal.TERMINAL_CHAT
    if incoming.callback_data is not None:
        assert incoming.callback_data in buttons
        assert buttons[int(line.strip()) - 1] == incoming.callback_data

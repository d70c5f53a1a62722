"""The terminal channel: the enterprise conversation on standard input and output, for admins trying rules."""

from __future__ import annotations

from typing import TextIO

from bot.messages import Incoming, Outgoing
from bot.store.base import ChatState
from handlers.enterprise import EnterpriseConversation

TERMINAL_CHAT_ID = 0
INTRO = "输入回答,或输入方括号里的数字代替按按钮;/help 查看命令,/quit 退出。\n"


def render(messages: list[Outgoing], out: TextIO) -> list[str]:
    """Prints messages with their buttons numbered; returns the button data by number (1-based)."""
    choices: list[str] = []
    for message in messages:
        if message.notice:
            print(f"({message.notice})", file=out)
        if message.text:
            print(message.text, file=out)
        labels = []
        for row in message.buttons:
            for button in row:
                choices.append(button.data)
                labels.append(f"[{len(choices)}] {button.text}")
        if labels:
            print("  ".join(labels), file=out)
        print(file=out)
    return choices


def to_incoming(line: str, choices: list[str]) -> Incoming:
    """A typed line as the channel-neutral Incoming: a command, a numbered button, or a text answer."""
    text = line.strip()
    if text.startswith("/"):
        return Incoming(TERMINAL_CHAT_ID, command=text[1:].split()[0].lower() if len(text) > 1 else "")
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return Incoming(TERMINAL_CHAT_ID, callback_data=choices[int(text) - 1])
    return Incoming(TERMINAL_CHAT_ID, text=text)


def run_terminal(conversation: EnterpriseConversation, stdin: TextIO, out: TextIO) -> None:
    """Runs the conversation until end of input or /quit; the state lives only for this session."""
    state = ChatState(TERMINAL_CHAT_ID)
    print(INTRO, file=out)
    choices = render(conversation.handle(Incoming(TERMINAL_CHAT_ID, command="start"), state).messages, out)
    while True:
        out.write("> ")
        out.flush()
        line = stdin.readline()
        if not line or line.strip() == "/quit":
            print("\n再见。", file=out)
            return
        if not line.strip():
            continue
        reply = conversation.handle(to_incoming(line, choices), state)
        state.version += 1
        if reply.forget:
            state = ChatState(TERMINAL_CHAT_ID, language=state.language)
        new_choices = render(reply.messages, out)
        if new_choices or any(m.text and not m.edit for m in reply.messages):
            choices = new_choices

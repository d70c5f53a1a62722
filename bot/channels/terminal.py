"""The terminal channel: the enterprise conversation on standard input and output, for admins trying rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from bot.dispatcher import Dispatcher
from bot.messages import ChatKey, Document, Incoming, Outgoing

TERMINAL_CHAT = ChatKey("terminal", 0)
INTRO = "输入回答,或输入方括号里的数字代替按按钮;/help 查看命令,/quit 退出。\n"


def save_document(document: Document, folder: Path) -> Path:
    """Writes a file the bot sent into the folder, under its own name (only the name: never a path it carries)."""
    name = Path(document.name).name or "file"
    path = folder / name
    path.write_bytes(document.data)
    return path


def render(messages: list[Outgoing], out: TextIO, folder: Path | None = None) -> list[str]:
    """Prints messages with their buttons numbered, and writes the files they carry to `folder` (the working
    directory by default), saying where; returns the button data by number (1-based)."""
    choices: list[str] = []
    for message in messages:
        if message.notice:
            print(f"({message.notice})", file=out)
        if message.text:
            print(message.text, file=out)
        if message.document is not None:
            try:
                path = save_document(message.document, folder or Path.cwd())
            except OSError as exc:
                print(f"[无法保存文件 {message.document.name}:{exc.strerror}]", file=out)
            else:
                print(f"[文件已保存:{path}]", file=out)
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
        words = text[1:].split(maxsplit=1)
        arguments = words[1] if len(words) > 1 else ""
        return Incoming(TERMINAL_CHAT, arguments, command=words[0].lower() if words else "")
    if text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= len(choices):
        return Incoming(TERMINAL_CHAT, callback_data=choices[int(text) - 1])
    return Incoming(TERMINAL_CHAT, text=text)


def run_terminal(dispatcher: Dispatcher, stdin: TextIO, out: TextIO) -> None:
    """Runs the conversation until end of input or /quit, through the same update cycle as every channel."""
    asyncio.run(_converse(dispatcher, stdin, out))


async def _converse(dispatcher: Dispatcher, stdin: TextIO, out: TextIO) -> None:
    print(INTRO, file=out)
    choices = render(await dispatcher.handle(Incoming(TERMINAL_CHAT, command="start")), out)
    while True:
        out.write("> ")
        out.flush()
        line = stdin.readline()
        if not line or line.strip() == "/quit":
            print("\n再见。", file=out)
            return
        if not line.strip():
            continue
        messages = await dispatcher.handle(to_incoming(line, choices))
        new_choices = render(messages, out)
        if new_choices or any(m.text and not m.edit for m in messages):
            choices = new_choices

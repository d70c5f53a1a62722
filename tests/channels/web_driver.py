"""A contact of the web chat over its JSON API, as another front end would be: tests and bench_web drive it."""

from __future__ import annotations

import random
from typing import Any

import aiohttp

# Typed answers for the questions without options, read as a person would write them.
TYPED = {
    "region": ["长春", "通化市东昌区", "長春", "武汉市", "吉林省"],
    "money": ["3000万", "1.2亿", "十二亿", "500万", "0"],
    "rate": ["4.35%", "0.05"],
    "number": ["3", "12"],
}
SKIP = "不清楚"


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


class WebContact:
    """One browser-less session: sends what a contact does and keeps the messages it is answered with."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str | None = None):
        self.http, self.base, self.token = http, base.rstrip("/"), token
        self.messages: list[dict] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def open(self) -> WebContact:
        async with self.http.post(f"{self.base}/api/sessions") as response:
            body = await response.json()
            if response.status != 201:
                raise ApiError(response.status, body)
        self.token = body["token"]
        return self

    async def send(self, **body: Any) -> list[dict]:
        """Posts a message (text=…, command=…, or button=… with message_id=…); returns the replies."""
        async with self.http.post(f"{self.base}/api/messages", json=body, headers=self.headers) as response:
            answer = await response.json()
            if response.status != 200:
                raise ApiError(response.status, answer)
        self.messages += answer["messages"]
        return answer["messages"]

    async def read(self, after: int = 0, wait: int = 0) -> list[dict]:
        url = f"{self.base}/api/messages?after={after}&wait={wait}"
        async with self.http.get(url, headers=self.headers) as response:
            answer = await response.json()
            if response.status != 200:
                raise ApiError(response.status, answer)
        return answer["messages"]

    async def press(self, message: dict, label: str) -> list[dict]:
        """Presses the button of the message with that label (or starting with it)."""
        data = next(b["data"] for row in message["buttons"] for b in row if b["label"].endswith(label))
        return await self.send(button=data, message_id=message["replaces"] or message["id"])


def asking(messages: list[dict]) -> dict | None:
    """The message that asks the open question, if the last of the replies asks one."""
    return messages[-1] if messages and messages[-1]["question"] is not None else None


async def answer(contact: WebContact, message: dict, rng: random.Random) -> list[dict]:
    """Answers the question the message asks with one of the options it offers (or a typed answer), sometimes 不清楚."""
    question = message["question"]
    if rng.random() < 0.15:
        return await contact.send(text=SKIP)
    options = question["options"]
    if question["type"] in ("choice", "bool"):
        return await contact.press(message, rng.choice(options)["label"])
    if question["type"] == "multi_choice":
        for option in rng.sample(options, k=rng.randint(1, min(2, len(options)))):
            message = (await contact.press(message, option["label"]))[-1]
        return await contact.press(message, DONE_LABELS[0] if DONE_LABELS[0] in _labels(message) else DONE_LABELS[1])
    return await contact.send(text=rng.choice(TYPED.get(question["type"], [SKIP])))


DONE_LABELS = ("完成", "Done")


def _labels(message: dict) -> list[str]:
    return [b["label"] for row in message["buttons"] for b in row]


async def interview(contact: WebContact, rng: random.Random, limit: int = 60) -> list[dict]:
    """/start, then answers from the options offered until the results; returns the last replies (the results)."""
    replies = await contact.send(command="start")
    for _ in range(limit):
        message = asking(replies)
        if message is None:
            return replies
        replies = await answer(contact, message, rng)
    raise AssertionError(f"no results after {limit} answers: {[m['text'][:40] for m in contact.messages[-3:]]}")

"""Plays one scripted session against a parity server and prints what it saw, as JSON.

    python driver.py ws://127.0.0.1:PORT            # the whole session
    python driver.py ws://127.0.0.1:PORT --single   # only the one-frame steps, with their requests

The server is either the Chanx app (``app.py`` under uvicorn) or its Rust twin
(``chanx-example-parity``); ``tests/parity.rs`` runs this script against both and compares the
two recordings. The output is ``{"steps": [...]}``; each step is::

    {"name": ..., "frames": {"a": [...], "b": [...]}, "raw": {...}, "close": {...}}

``frames`` holds every frame each connection received during the step, parsed, in the order
received; ``raw`` the same frames as the exact text; ``close`` the close code and reason a
connection ended with (for steps that end one).

A step sends its frames, then waits until each connection received the number of frames the
step expects (or 3 s passed), then 100 ms more so that any unexpected extra frame is recorded
too. Everything is on 127.0.0.1; the whole run takes a few seconds.
"""

import asyncio
import json
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PATH = "/ws/parity/lobby"
WAIT = 3.0  # seconds to wait for the frames a step expects
QUIET = 0.1  # seconds to wait for unexpected extra frames


class Peer:
    """One client connection, with every text frame it receives queued."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.queue.put_nowait(frame if isinstance(frame, str) else repr(frame))
        except ConnectionClosed:
            pass
        self.queue.put_nowait(None)  # the connection is closed

    async def collect(self, expected: int) -> list[str]:
        """The frames received until `expected` arrived (or time ran out), plus stragglers."""
        frames: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            timeout = deadline - loop.time() if len(frames) < expected else QUIET
            try:
                frame = await asyncio.wait_for(self.queue.get(), max(timeout, 0))
            except TimeoutError:
                return frames
            if frame is None:
                self.queue.put_nowait(None)  # keep reporting the close
                return frames
            frames.append(frame)

    def close_info(self) -> dict[str, Any]:
        """How the connection ended (code and reason of the server's close frame)."""
        rcvd = self.ws.close_code, self.ws.close_reason
        return {"code": rcvd[0], "reason": rcvd[1]}


async def open_peer(url: str, query: str = "", headers: dict[str, str] | None = None) -> Peer:
    ws = await connect(url + PATH + query, additional_headers=headers or {}, max_size=None)
    return Peer(ws)


def record(name: str, received: dict[str, list[str]], close: dict[str, Any] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "frames": {who: [json.loads(f) for f in frames] for who, frames in received.items()},
        "raw": received,
    }
    if close is not None:
        step["close"] = close
    return step


# Frames sent on connection `a`, each answered on `a` only: (name, frame, expected frame count).
# A `str` is sent as a text frame verbatim, `bytes` as a binary frame, anything else as JSON.
PROFILE = {
    "username": "alice_1",
    "age": 30,
    "score": 12.5,
    "role": "admin",
    "plan": "pro",
    "address": {"city": "Hanoi", "zip": "10000"},
    "tags": ["a", "b"],
    "nickname": "al",
    "bio": "hello",
}


def profile(**changes: Any) -> dict[str, Any]:
    """`PROFILE` with some fields changed (a value of `...` removes the field)."""
    out = dict(PROFILE) | changes
    return {k: v for k, v in out.items() if v is not ...}


def register(ref: str | None = None, **changes: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"action": "register", "payload": profile(**changes)}
    if ref is not None:
        frame["ref"] = ref
    return frame


SINGLE: list[tuple[str, Any, int]] = [
    # valid actions
    ("ping", {"action": "ping"}, 1),
    ("ping with ref", {"action": "ping", "payload": None, "ref": "p-1", "version": 1}, 1),
    ("ping with an unknown key", {"action": "ping", "extra": 1}, 1),
    ("echo with ref", {"action": "echo", "payload": {"text": "hi", "times": 2}, "ref": "e-1"}, 1),
    ("echo with a default", {"action": "echo", "payload": {"text": "once"}}, 1),
    ("register", register(ref="r-1"), 1),
    (
        "register with defaults",
        register(score=..., role=..., plan=..., tags=..., nickname=..., bio=None),
        1,
    ),
    ("register with an integer score", register(score=5), 1),
    ("register with unicode", register(bio="xin chào ☕ \"q\" \\ /", nickname="Ñ"), 1),
    ("countdown with ref", {"action": "countdown", "payload": {"start": 3}, "ref": "c-1"}, 3),
    ("handler raises", {"action": "explode"}, 1),
    ("handler raises, with ref", {"action": "explode", "ref": "x-1"}, 1),
    # frames that are not JSON objects
    ("invalid JSON", "{not json", 1),
    ("invalid JSON, trailing comma", '{"action": "ping",}', 1),
    ("invalid JSON, truncated", '[1, 2', 1),
    ("empty text frame", "", 1),
    ("binary frame", b"\x00\x01", 1),
    ("JSON array", "[1, 2, 3]", 1),
    ("JSON number", "123", 1),
    ("JSON string", '"ping"', 1),
    ("JSON null", "null", 1),
    # the action
    ("missing action", {"payload": {}}, 1),
    ("unknown action", {"action": "dance"}, 1),
    ("unknown action, with ref", {"action": "dance", "ref": "r-3"}, 1),
    ("null action", {"action": None}, 1),
    ("number action", {"action": 5}, 1),
    ("server action sent by the client", {"action": "pong"}, 1),
    # the envelope
    ("ref not a string", {"action": "ping", "ref": 5}, 1),
    ("version not an integer", {"action": "ping", "version": "x"}, 1),
    ("seq not an integer", {"action": "ping", "seq": "a"}, 1),
    # payload validation
    ("missing payload", {"action": "echo"}, 1),
    ("null payload", {"action": "echo", "payload": None}, 1),
    ("payload not an object", {"action": "echo", "payload": "x"}, 1),
    ("string too long", {"action": "echo", "payload": {"text": "x" * 21}}, 1),
    ("string too short", {"action": "echo", "payload": {"text": ""}}, 1),
    ("string of the wrong type", {"action": "echo", "payload": {"text": 5}}, 1),
    ("integer below the minimum", {"action": "echo", "payload": {"text": "a", "times": 0}}, 1),
    ("integer above the maximum", {"action": "countdown", "payload": {"start": 4}}, 1),
    ("integer from a string", {"action": "echo", "payload": {"text": "a", "times": "2"}}, 1),
    ("integer not parsable", {"action": "echo", "payload": {"text": "a", "times": "x"}}, 1),
    ("integer from a fractional float", {"action": "echo", "payload": {"text": "a", "times": 2.5}}, 1),
    ("integer from a whole float", {"action": "echo", "payload": {"text": "a", "times": 2.0}}, 1),
    ("integer from a bool", {"action": "countdown", "payload": {"start": True}}, 1),
    ("several errors in one payload", {"action": "echo", "payload": {"text": "", "times": 9}}, 1),
    ("null for a no-payload action", {"action": "ping", "payload": None}, 1),
    ("value for a no-payload action", {"action": "ping", "payload": 5}, 1),
    ("pattern mismatch", register(username="Alice"), 1),
    ("username too short", register(username="al"), 1),
    ("age below the minimum", register(age=12), 1),
    ("age above the maximum", register(age=131), 1),
    ("number at the exclusive maximum", register(score=100), 1),
    ("number below the minimum", register(score=-0.5), 1),
    ("number from a string", register(score="7.5"), 1),
    ("enum value unknown", register(role="boss"), 1),
    ("literal value unknown", register(plan="gold"), 1),
    ("nested field missing", register(address={"city": "Hue"}), 1),
    ("nested pattern mismatch", register(address={"city": "Hue", "zip": "1234"}), 1),
    ("nested not an object", register(address="Hue"), 1),
    ("list too long", register(tags=["a", "b", "c", "d"]), 1),
    ("list item of the wrong type", register(tags=["a", 1]), 1),
    ("list not a list", register(tags="a"), 1),
    ("list null", register(tags=None), 1),
    ("optional too long", register(nickname="n" * 11), 1),
    ("optional null", register(nickname=None), 1),
    ("required-nullable missing", register(bio=...), 1),
    ("required field missing", register(age=...), 1),
    ("everything wrong at once", register(username="A", age=200, role="x", address={}), 1),
    ("error with ref", register(ref="r-9", age=1), 1),
]


async def authentication_steps(url: str) -> list[dict[str, Any]]:
    """Connections that fail and pass authentication, each until it is closed."""
    steps = []
    cases = [
        ("no token", "", None),
        ("unknown token", "?token=nope", None),
        ("empty token", "?token=", None),
        ("token in a header", "", {"X-Token": "bob-token"}),
        ("unknown token in a header", "", {"X-Token": "nope"}),
    ]
    for name, query, headers in cases:
        peer = await open_peer(url, query, headers)
        frames = await peer.collect(2)
        if not peer.reader.done():
            await peer.ws.close()
            await peer.reader
        steps.append(record(f"connect: {name}", {"a": frames}, peer.close_info()))
    return steps


async def session(url: str) -> list[dict[str, Any]]:
    steps = await authentication_steps(url)

    a = await open_peer(url, "?token=alice-token")
    steps.append(record("connect a (query token)", {"a": await a.collect(2)}))
    b = await open_peer(url, "", {"X-Token": "bob-token"})
    steps.append(record("connect b (header token)", {"b": await b.collect(2)}))

    for name, frame, expected in SINGLE:
        if isinstance(frame, bytes):
            await a.ws.send(frame)
        elif isinstance(frame, str):
            await a.ws.send(frame)
        else:
            await a.ws.send(json.dumps(frame))
        steps.append(record(name, {"a": await a.collect(expected)}))

    # The room: a broadcast and a channel event reach both connections, never with a `ref`.
    for name, frame in [
        ("say to the room", {"action": "say", "payload": {"text": "hi all"}, "ref": "s-1"}),
        ("announce through the layer", {"action": "announce", "payload": {"text": "news"}, "ref": "n-1"}),
        ("announce from b", {"action": "announce", "payload": {"text": "from b"}}),
    ]:
        sender = b if "from b" in name else a
        await sender.ws.send(json.dumps(frame))
        got_a, got_b = await asyncio.gather(a.collect(1), b.collect(1))
        steps.append(record(name, {"a": got_a, "b": got_b}))

    # A room member that leaves no longer receives the room's messages.
    await b.ws.close()
    await b.reader
    steps.append(record("b leaves", {"b": []}, b.close_info()))
    await a.ws.send(json.dumps({"action": "say", "payload": {"text": "alone"}}))
    steps.append(record("say after b left", {"a": await a.collect(1)}))

    await a.ws.close()
    await a.reader
    steps.append(record("a leaves", {"a": []}, a.close_info()))
    return steps


async def single_session(url: str) -> list[dict[str, Any]]:
    """Only the `SINGLE` steps, on one authenticated connection, each with the frame sent: what
    `tests/mock.rs` replays against `chanx-gen mock` (see `tests/parity/single-steps.json`)."""
    a = await open_peer(url, "?token=alice-token")
    await a.collect(2)
    steps = []
    for name, frame, expected in SINGLE:
        if isinstance(frame, bytes):
            await a.ws.send(frame)
            request: dict[str, Any] = {"binary": frame.hex()}
        elif isinstance(frame, str):
            await a.ws.send(frame)
            request = {"text": frame}
        else:
            text = json.dumps(frame)
            await a.ws.send(text)
            request = {"text": text}
        step = record(name, {"a": await a.collect(expected)})
        step["request"] = request
        steps.append(step)
    await a.ws.close()
    await a.reader
    return steps


def main() -> None:
    url = sys.argv[1].rstrip("/")
    if sys.argv[2:] == ["--single"]:
        steps = asyncio.run(single_session(url))
    else:
        steps = asyncio.run(session(url))
    json.dump({"steps": steps}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

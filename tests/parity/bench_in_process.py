"""In-process throughput of Chanx 2.13 on the parity app: frames handled per second, no sockets.

The Python column of ``cargo bench -p chanx-example-parity --bench in_process`` (which runs this
script as a child process and prints both columns side by side); it also runs on its own:

    $CHANX_PYTHON tests/parity/bench_in_process.py [--seconds 0.5] [--repeats 5]

What one "frame handled" is here is exactly what Chanx does for a text frame under uvicorn, minus
the socket: one ``ParityConsumer`` from ``app.py`` (its real adapters and handlers) gets
``dispatch({"type": "websocket.receive", "text": ...})``, the call fast-channels' consumer loop
makes per incoming frame. That goes ``websocket_receive`` → ``receive`` (``json.loads``) →
``receive_json`` (``Envelope`` validation, ``ref`` bound) → ``_receive_own_json``, which starts the
``handle_json`` task: the discriminated ``incoming_message_adapter.validate_python``, the handler,
``model_dump(mode="json")`` and ``send_json`` (``json.dumps``) to the ASGI ``send``. Here ``send``
is a coroutine that keeps the text, and the benchmark awaits the handler task before the next
frame, so every frame is handled completely, one after another, in one asyncio loop on one thread.

The frames are the mix in ``in-process-frames.json`` (or ``--frames FILE``); the rows measured are
each frame alone, then the whole mix (``mix``, each frame once per round). Before timing, each
frame is handled once and its reply frames are reported, so that the caller can check them against
the Rust server's (the Rust benchmark does, byte for byte).

Output on stdout, one JSON object a line. The first is
``{"versions": {...}, "rows": [name, ...], "replies": [[text, ...], ...]}``. Then:

* by default, ``{"results": [{"name", "rates"}, ...]}`` with the frames per second of each repeat;
* with ``--serve``, one ``{"rate": frames_per_second}`` for every ``ROW SECONDS`` line read on stdin,
  until stdin ends: the Rust benchmark alternates Python and Rust runs this way, so that both see
  the same load of a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app import ParityConsumer  # noqa: E402

from chanx.utils.asyncio import global_background_tasks  # noqa: E402
from fast_channels.layers import get_channel_layer  # noqa: E402

MIX = "mix"


async def make_consumer(sent: list[str]) -> ParityConsumer:
    """A ``ParityConsumer`` set up as fast-channels' ``__call__`` sets it up for a connection to
    ``/ws/parity/bench``, with an ASGI ``send`` that appends every text frame to ``sent``."""

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["text"])

    consumer = ParityConsumer()
    consumer.scope = {
        "type": "websocket",
        "path": "/ws/parity/bench",
        "path_params": {"room": "bench"},
        "query_string": b"token=alice-token",
        "headers": [],
    }
    consumer.channel_layer = get_channel_layer(consumer.channel_layer_alias)
    consumer.channel_name = await consumer.channel_layer.new_channel()
    consumer.base_send = send
    return consumer


async def handle(consumer: ParityConsumer, text: str) -> None:
    """Handles one text frame as the consumer loop does, and waits until its handler task is done."""
    await consumer.dispatch({"type": "websocket.receive", "text": text})
    for task in [task for task in global_background_tasks if not task.done()]:
        await task


async def rate(consumer: ParityConsumer, sent: list[str], texts: list[str], seconds: float) -> float:
    """Frames per second over rounds of ``texts`` for about ``seconds``."""
    # Calibrate: how many rounds fit in about a tenth of the time.
    rounds = 1
    while True:
        start = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                await handle(consumer, text)
            sent.clear()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 10:
            break
        rounds *= 2
    rounds = max(1, int(rounds * seconds / elapsed))
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            await handle(consumer, text)
        sent.clear()
    elapsed = time.perf_counter() - start
    return rounds * len(texts) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=Path, default=HERE / "in-process-frames.json")
    parser.add_argument("--seconds", type=float, default=0.5, help="time per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--serve", action="store_true", help="measure the rows asked for on stdin (see above)"
    )
    args = parser.parse_args()

    frames = json.loads(args.frames.read_text())["frames"]
    sent: list[str] = []
    consumer = await make_consumer(sent)

    # Each frame once: its replies, which must be exactly one frame, and Chanx's real answer.
    replies = []
    for frame in frames:
        await handle(consumer, frame["text"])
        replies.append(list(sent))
        sent.clear()
    for frame, reply in zip(frames, replies):
        if len(reply) != 1:
            sys.exit(f"{frame['name']}: expected one reply frame, got {reply}")

    cases = [(frame["name"], [frame["text"]]) for frame in frames]
    cases.append((MIX, [frame["text"] for frame in frames]))
    versions = {
        "python": sys.version.split()[0],
        "chanx": version("chanx"),
        "pydantic": version("pydantic"),
    }
    rows = [name for name, _ in cases]
    emit({"versions": versions, "rows": rows, "replies": replies})

    if args.serve:
        for line in sys.stdin:
            row, seconds = line.split()
            emit({"rate": await rate(consumer, sent, cases[int(row)][1], float(seconds))})
        return

    results = []
    for name, texts in cases:
        rates = [await rate(consumer, sent, texts, args.seconds) for _ in range(args.repeats)]
        results.append({"name": name, "rates": rates})
    emit({"results": results})


def emit(report: dict[str, Any]) -> None:
    """Writes ``report`` as one JSON line on stdout."""
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()

if __name__ == "__main__":
    asyncio.run(main())

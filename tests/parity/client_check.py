"""Talks to a parity server through the client `chanx generate-client` made from `specs/parity.json`.

    python client_check.py CLIENT_DIR ws://127.0.0.1:PORT

``CLIENT_DIR`` holds the generated package ``parity_client`` (the test generates it into a
temporary folder first). The script connects as alice (``X-Token`` header), sends ``ping``,
``echo`` and ``register`` as the generated typed models, and prints as JSON every frame the
client received: typed ones as ``[ClassName, model_dump()]``, the others (Chanx's
``authentication`` frame is not in the document) as ``["invalid", frame]``. It stops after the
``registered`` reply, or after 10 s.
"""

import asyncio
import json
import sys
from typing import Any

sys.path.insert(0, sys.argv[1])

from parity_client.parity.client import ParityClient  # noqa: E402
from parity_client.parity.messages import (  # noqa: E402
    Address,
    EchoMessage,
    EchoPayload,
    PingMessage,
    Profile,
    RegisterMessage,
)


class Recorder(ParityClient):
    """Records what arrives; sends the requests once the server greeted the connection."""

    def __init__(self, url: str) -> None:
        super().__init__(url, headers={"X-Token": "alice-token"}, path_params={"room": "lobby"})
        self.seen: list[Any] = []
        self.done = asyncio.Event()

    async def handle_message(self, message: Any) -> None:
        self.seen.append([type(message).__name__, message.model_dump(mode="json")])
        name = type(message).__name__
        if name == "Welcome":
            await self.send_message(PingMessage())
            await self.send_message(EchoMessage(payload=EchoPayload(text="typed", times=2)))
            profile = Profile(
                username="carol",
                age=40,
                address=Address(city="Da Nang", zip="55000"),
                # Chanx's generator types the required-nullable `bio` as plain `str`, and leaves
                # `tags` as `list[str] | None = None`, which sends `null` (rejected by Chanx
                # itself): give both.
                bio="hi",
                tags=["x"],
            )
            await self.send_message(RegisterMessage(payload=profile))
        elif name == "Registered":
            self.done.set()
            await self.disconnect()

    async def handle_invalid_message(self, message: Any) -> None:
        self.seen.append(["invalid", message])

    async def handle_websocket_connection_error(self, e: Exception) -> None:
        # The base class swallows these; a failing check should say why.
        print(f"connection error: {e!r}", file=sys.stderr)
        self.done.set()


async def main() -> None:
    client = Recorder(sys.argv[2].rstrip("/"))
    task = asyncio.create_task(client.handle())
    try:
        await asyncio.wait_for(client.done.wait(), 10)
        await asyncio.wait_for(task, 5)
    finally:
        json.dump(client.seen, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())

"""A real Django Channels AsyncJsonWebsocketConsumer on channels_redis, driven as an ASGI
application through asgiref's ApplicationCommunicator (what channels' WebsocketCommunicator does;
`channels.testing` itself imports daphne, which is not installed). It joins GROUP on connect and forwards every Chanx `handle_channel_event`
it gets from the layer (`event_data`) to its WebSocket client.

  django_consumer.py --host URL [--host URL]... --group GROUP [--count N] [--timeout S]

Prints {"event": "ready", "channel": ...} once connected, then {"event": "frame", "frame": ...} for
each JSON frame the client receives.
"""

import argparse
import asyncio
import json
import sys

import django
from django.conf import settings

parser = argparse.ArgumentParser()
parser.add_argument("--host", action="append", default=[])
parser.add_argument("--group", required=True)
parser.add_argument("--count", type=int, default=1)
parser.add_argument("--timeout", type=float, default=15)
args = parser.parse_args()

settings.configure(
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": args.host},
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from asgiref.testing import ApplicationCommunicator  # noqa: E402

channel_names = []


class EventConsumer(AsyncJsonWebsocketConsumer):
    groups = [args.group]

    async def connect(self):
        channel_names.append(self.channel_name)
        await self.accept()

    async def handle_channel_event(self, event):
        # What a Chanx consumer does with an event: hand `event_data` to the client.
        await self.send_json(event["event_data"])


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    scope = {
        "type": "websocket",
        "path": "/ws/events/",
        "headers": [],
        "query_string": b"",
        "subprotocols": [],
    }
    communicator = ApplicationCommunicator(EventConsumer.as_asgi(), scope)
    await communicator.send_input({"type": "websocket.connect"})
    accepted = await communicator.receive_output(timeout=args.timeout)
    if accepted["type"] != "websocket.accept":
        out({"event": "rejected", "output": accepted["type"]})
        return 1
    out({"event": "ready", "channel": channel_names[0]})
    for _ in range(args.count):
        try:
            sent = await communicator.receive_output(timeout=args.timeout)
        except asyncio.TimeoutError:
            out({"event": "timeout"})
            return 1
        out({"event": "frame", "frame": json.loads(sent["text"])})
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(timeout=args.timeout)
    return 0


sys.exit(asyncio.run(main()))

"""A channels_redis 4.x peer for the Rust RedisLayer interop tests. Prints one JSON object per line.

  redis_peer.py [layer options] listen [--group G]... [--count N] [--timeout S]
  redis_peer.py [layer options] recv CHANNEL [--count N] [--timeout S]
  redis_peer.py [layer options] send CHANNEL JSON [--bin-field NAME=HEX]
  redis_peer.py [layer options] group-send GROUP JSON
  redis_peer.py hash --ring N... NAME...
  redis_peer.py packb JSON_LIST
  redis_peer.py [layer options] raw KEY       (stored bodies of a key, random prefix cut off)

Layer options mirror RedisChannelLayer's arguments: --host URL (repeatable, shard order), --prefix,
--capacity, --expiry, --group-expiry, --serializer, --key (repeatable).
"""

import argparse
import asyncio
import json
import sys

import msgpack
import redis
from channels_redis.core import RedisChannelLayer
from channels_redis.utils import _consistent_hash


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def jsonable(value):
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def make_layer(args):
    return RedisChannelLayer(
        hosts=args.host or ["redis://127.0.0.1:6379"],
        prefix=args.prefix,
        capacity=args.capacity,
        expiry=args.expiry,
        group_expiry=args.group_expiry,
        serializer_format=args.serializer,
        symmetric_encryption_keys=args.key or None,
    )


async def listen(args):
    layer = make_layer(args)
    channel = await layer.new_channel()
    for group in args.group:
        await layer.group_add(group, channel)
    out({"event": "ready", "channel": channel, "groups": args.group})
    for _ in range(args.count):
        try:
            message = await asyncio.wait_for(layer.receive(channel), args.timeout)
        except asyncio.TimeoutError:
            out({"event": "timeout"})
            return 1
        out({"event": "message", "channel": channel, "message": jsonable(message)})
    for group in args.group:
        await layer.group_discard(group, channel)
    out({"event": "done"})
    return 0


async def recv(args):
    layer = make_layer(args)
    out({"event": "ready", "channel": args.channel})
    for _ in range(args.count):
        try:
            message = await asyncio.wait_for(layer.receive(args.channel), args.timeout)
        except asyncio.TimeoutError:
            out({"event": "timeout"})
            return 1
        out({"event": "message", "message": jsonable(message)})
    return 0


async def send(args):
    layer = make_layer(args)
    message = json.loads(args.message)
    for field in args.bin_field:
        name, _, hexdata = field.partition("=")
        message[name] = bytes.fromhex(hexdata)
    await layer.send(args.channel, message)
    out({"event": "sent"})
    return 0


async def group_send(args):
    layer = make_layer(args)
    await layer.group_send(args.group_name, json.loads(args.message))
    out({"event": "sent"})
    return 0


def raw(args):
    client = redis.Redis.from_url((args.host or ["redis://127.0.0.1:6379"])[0])
    for member, score in client.zrange(args.redis_key, 0, -1, withscores=True):
        out({"body": member[12:].hex(), "score": score})
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", action="append", default=[])
    parser.add_argument("--prefix", default="asgi")
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--expiry", type=int, default=60)
    parser.add_argument("--group-expiry", type=int, default=86400)
    parser.add_argument("--serializer", default="msgpack")
    parser.add_argument("--key", action="append", default=[])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("listen")
    p.add_argument("--group", action="append", default=[])
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=15)
    p = sub.add_parser("recv")
    p.add_argument("channel")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=15)
    p = sub.add_parser("send")
    p.add_argument("channel")
    p.add_argument("message")
    p.add_argument("--bin-field", action="append", default=[])
    p = sub.add_parser("group-send")
    p.add_argument("group_name")
    p.add_argument("message")
    p = sub.add_parser("hash")
    p.add_argument("--ring", type=int, action="append", default=[])
    p.add_argument("names", nargs="*")
    p = sub.add_parser("packb")
    p.add_argument("messages")
    p = sub.add_parser("raw")
    p.add_argument("redis_key")
    args = parser.parse_args()

    if args.mode == "hash":
        for name in args.names:
            out({"name": name, "rings": {str(r): _consistent_hash(name, r) for r in args.ring}})
        return 0
    if args.mode == "packb":
        for message in json.loads(args.messages):
            out({"hex": msgpack.packb(message).hex()})
        return 0
    if args.mode == "raw":
        return raw(args)
    runner = {"listen": listen, "recv": recv, "send": send, "group-send": group_send}[args.mode]
    return asyncio.run(runner(args))


if __name__ == "__main__":
    sys.exit(main())

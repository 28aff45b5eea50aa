"""The channels_redis 4.3.0 side of benches/redis_layer.rs: the same three measurements, one process.

  redis_layer.py URL --sends N --receives N --latency N --concurrency C

Prints one JSON object: group_sends_per_s, receives_per_s, p50_ms, p99_ms.
"""

import argparse
import asyncio
import json
import time

from channels_redis.core import RedisChannelLayer


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--receives", type=int, default=3000)
    parser.add_argument("--latency", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    options = dict(hosts=[args.url], prefix="pybench", capacity=1_000_000)
    sender = RedisChannelLayer(**options)
    receiver = RedisChannelLayer(**options)

    # group_send/s: a flood from one process (C concurrent senders) to a one-member group.
    sink = await receiver.new_channel()
    await sender.group_add("flood", sink)
    message = {"type": "bench.message", "text": "hello", "n": 1}
    per_task = args.sends // args.concurrency

    async def flood():
        for _ in range(per_task):
            await sender.group_send("flood", message)

    start = time.perf_counter()
    await asyncio.gather(*(flood() for _ in range(args.concurrency)))
    group_sends_per_s = per_task * args.concurrency / (time.perf_counter() - start)
    await sender.flush()

    # receives/s: drain N messages already waiting in Redis.
    sink = await receiver.new_channel()
    await sender.group_add("drain", sink)
    for _ in range(args.receives // 100):
        await asyncio.gather(*(sender.group_send("drain", message) for _ in range(100)))
    total = args.receives // 100 * 100
    start = time.perf_counter()
    for _ in range(total):
        await receiver.receive(sink)
    receives_per_s = total / (time.perf_counter() - start)
    await sender.flush()

    # Latency: serial group_send -> receive, unloaded.
    me = await receiver.new_channel()
    await receiver.group_add("ping", me)
    samples = []
    for _ in range(args.latency):
        start = time.perf_counter()
        await receiver.group_send("ping", message)
        await receiver.receive(me)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    await sender.flush()
    print(json.dumps({
        "group_sends_per_s": group_sends_per_s,
        "receives_per_s": receives_per_s,
        "p50_ms": percentile(samples, 0.5),
        "p99_ms": percentile(samples, 0.99),
    }))


asyncio.run(main())

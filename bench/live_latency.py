"""Fill-to-subscriber latency with 1, 100 and 1,000 AppSync-protocol subscribers, and the stack's memory.

    python -m bench.live_latency [--subscribers 1 100 1000] [--fills 10] [--interval 1.0] [--environments 0 4]

The local stack runs as its own process (`basketgraph dev` on a free port, market simulator off);
this process holds the subscribers: raw WebSockets speaking AppSync's real-time protocol, all
subscribed to `onFill` of one user. `--environments` runs the whole bench once per count given
(`basketgraph dev --lambda-environments N`): 0 runs the stream handler in the stack's process, publishing
straight into the emulator; any other count runs it in an execution environment of its own, publishing over
IAM-signed HTTP as on AWS, so `--environments 0 4` prints the two side by side (the stack's CPU counts its
environments'). For each MARKET order (the paper exchange fills it at once) and each subscriber, two spans
are printed:

- fill -> subscriber: from the moment the fill was recorded (the fill's `recordedAt`, stamped by the
  transaction that writes it) to the subscriber receiving it: the stream, the stream handler, the
  publish mutation and the fan-out. This is the goal's measure: p99 <= 250 ms at 1,000 subscribers,
  every event delivered.
- placeOrder -> subscriber: from sending `placeOrder` to receiving the fill, an upper bound that
  adds the resolver, the exchange and its postbacks.

Orders are sent `--interval` seconds apart (default 1 s: one user's steady trading, below what the
single-process stack can absorb; the CPU the stack spends per order is printed, so the rate at
which it saturates can be read off). Both clocks are this machine's wall clock. The stack and the
subscribers share the machine's cores, so the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import websockets
from websockets.typing import Subprotocol

from bench.dev_process import DevStack, gql_session
from local.seed import demo_basket, demo_order

if TYPE_CHECKING:
    from collections.abc import Callable

ON_FILL = "subscription($o: ID!) { onFill(ownerId: $o) { eventId fill { orderId tradeId quantity price recordedAt } } }"


async def subscriber(url: str, host: str, token: str, owner: str, ready: asyncio.Event, inbox: list[Any]) -> None:
    header = base64.b64encode(json.dumps({"host": host, "Authorization": token}).encode()).decode()
    async with websockets.connect(
        f"{url}?header={header}&payload=e30=", subprotocols=[Subprotocol("graphql-ws")], max_queue=None, open_timeout=60
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        while json.loads(await ws.recv())["type"] != "connection_ack":
            pass
        data = json.dumps({"query": ON_FILL, "variables": {"o": owner}})
        start = {
            "id": "1",
            "type": "start",
            "payload": {"data": data, "extensions": {"authorization": {"host": host, "Authorization": token}}},
        }
        await ws.send(json.dumps(start))
        while json.loads(await ws.recv())["type"] != "start_ack":
            pass
        ready.set()
        async for message in ws:
            body = json.loads(message)
            if body["type"] == "data":
                fill = body["payload"]["data"]["onFill"]["fill"]
                recorded = datetime.fromisoformat(fill["recordedAt"]).timestamp()
                inbox.append((time.perf_counter(), fill["orderId"], time.time() - recorded))


async def run(
    url: str,
    host: str,
    token: str,
    owner: str,
    gql: Any,
    basket_id: str,
    count: int,
    fills: int,
    stack_cpu_seconds: Callable[[], float],
    interval: float,
) -> None:
    inboxes: list[list[Any]] = [[] for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(subscriber(url, host, token, owner, readies[i], inboxes[i])))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=300)
    sent: dict[str, float] = {}
    stack_cpu, own_cpu = stack_cpu_seconds(), time.process_time()
    for _ in range(fills):
        order = demo_order(basket_id, orderType="MARKET", price=None)
        started = time.perf_counter()
        placed = await asyncio.to_thread(
            gql, "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }", {"i": order}
        )
        sent[placed["placeOrder"]["id"]] = started
        await asyncio.sleep(interval)
    deadline = time.monotonic() + 60
    # Fills of earlier orders (the basket's own legs) may still arrive: wait for these orders' fills.
    while time.monotonic() < deadline and any(
        sum(order_id in sent for _, order_id, _ in inbox) < fills for inbox in inboxes
    ):
        await asyncio.sleep(0.1)
    stack_cpu, own_cpu = stack_cpu_seconds() - stack_cpu, time.process_time() - own_cpu
    ours = [entry for inbox in inboxes for entry in inbox if entry[1] in sent]
    end_to_end = [at - sent[order_id] for at, order_id, _ in ours]
    fill_to_subscriber = [since_recorded for _, _, since_recorded in ours]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    fp50, fp99 = percentiles(fill_to_subscriber)
    ep50, ep99 = percentiles(end_to_end)
    print(
        f"  {count:5d} subscribers: fill -> subscriber p50 {fp50:7.1f} ms  p99 {fp99:7.1f} ms"
        f"   placeOrder -> subscriber p50 {ep50:7.1f} ms  p99 {ep99:7.1f} ms"
        f"   delivered {len(ours)}/{count * fills}",
        flush=True,
    )
    print(
        f"  {'':5s}  CPU per order: stack {stack_cpu / fills * 1000:6.1f} ms,"
        f" subscribers {own_cpu / fills * 1000:6.1f} ms;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds (nan when empty)."""
    if not seconds:
        return float("nan"), float("nan")
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--fills", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between orders")
    parser.add_argument(
        "--environments", type=int, nargs="+", default=[4], help="execution environments per Lambda, one run each"
    )
    args = parser.parse_args()
    for environments in args.environments:
        bench_stack(args, environments)
    print(
        f"  reproduce: python -m bench.live_latency --subscribers {' '.join(map(str, args.subscribers))}"
        f" --fills {args.fills} --interval {args.interval} --environments {' '.join(map(str, args.environments))}"
    )


def bench_stack(args: argparse.Namespace, environments: int) -> None:
    where = "in the stack's process" if environments == 0 else "in its own execution environment (SigV4 over HTTP)"
    with tempfile.TemporaryDirectory() as state:
        stack = DevStack.start(Path(state), "--still-market", "--lambda-environments", str(environments))
        try:
            token = stack.user("latency")["token"]
            gql = gql_session(stack.url, token)
            host = stack.url.removeprefix("http://")
            owner = gql("{ me { id } }")["me"]["id"]
            print(
                "placeOrder (MARKET) -> onFill at each AppSync-protocol subscriber, local stack on loopback,"
                f" --lambda-environments {environments}: the stream handler {where}"
            )
            for count in args.subscribers:
                # A live basket per run, so every run trades in a basket of the same (realistic) size
                basket_id = gql(
                    "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": demo_basket()}
                )["createBasket"]["id"]
                gql(
                    "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r)"
                    " { basket { id } } }",
                    {"b": basket_id, "r": str(uuid.uuid4())},
                )
                time.sleep(2)
                asyncio.run(
                    run(
                        f"ws://{host}/graphql",
                        host,
                        token,
                        owner,
                        gql,
                        basket_id,
                        count,
                        args.fills,
                        stack.cpu_seconds,
                        args.interval,
                    )
                )
            own, environment = stack.peak_rss_mib()
            print(f"  local stack peak memory (VmHWM): {own:.0f} MiB, largest environment {environment:.0f} MiB")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()

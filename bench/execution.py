"""Order throughput through `executeBasket` with the per-account order limiter on and off, and the latency
of `placeOrder` against the paper exchange — on the whole local stack, over HTTP on loopback.

    python -m bench.execution [--baskets 3] [--legs 20] [--orders 100]

The paper exchange enforces Kite's 10 order requests per second per account (HTTP 429 beyond it). With
the limiter on (8/s, `KITE_ORDER_RATE`), a basket is placed at the limiter's pace and never meets a 429;
with it off, placements go as fast as the stack can, and Kite's limit refuses what is over it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from bench.waiting import wait_until
from brokers.kite.ratelimit import DEFAULT_ORDER_RATE
from local.seed import demo_basket, demo_order
from local.stack import LocalStack, StackConfig

EQUITIES = ["RELIANCE", "INFY", "SBIN", "HDFCBANK", "TCS"]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   (n={len(ordered)})"


class Client:
    def __init__(self, stack: LocalStack, token: str) -> None:
        self.url = f"{stack.url}/graphql"
        self.session = requests.Session()
        self.session.headers["Authorization"] = token

    def __call__(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.session.post(self.url, json={"query": query, "variables": variables}, timeout=120).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return dict(body["data"])


def twenty_legs(legs: int) -> dict[str, Any]:
    pool = [{"exchange": "NSE", "tradingsymbol": s, "side": "BUY", "lots": 1} for s in EQUITIES]
    pool.append(
        {
            "exchange": "NFO",
            "tradingsymbol": demo_basket()["strategies"][0]["legs"][0]["tradingsymbol"],
            "side": "BUY",
            "lots": 1,
        }
    )
    chosen = [pool[i % len(pool)] for i in range(legs)]
    strategies = [{"name": f"part {i // 10 + 1}", "legs": chosen[i : i + 10]} for i in range(0, legs, 10)]
    return {"name": f"{legs} legs", "strategies": strategies}


def execute_baskets(stack: LocalStack, rate: int, baskets: int, legs: int) -> dict[str, Any]:
    """Execute `baskets` baskets of `legs` legs for a fresh user with the limiter at `rate` (0: off)."""
    stack.recompose(kite_order_rate=rate)  # read when the user's broker session is first built
    user = stack.add_user(f"bench_rate_{rate}_{uuid.uuid4().hex[:6]}")
    gql = Client(stack, user["token"])
    ids = [
        gql("mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": twenty_legs(legs)})[
            "createBasket"
        ]["id"]
        for _ in range(baskets)
    ]
    refused_before = stack.exchange.too_many_requests
    placed = rejected = 0
    statuses: Counter[str] = Counter()
    start = time.perf_counter()
    for basket_id in ids:
        result = gql(
            "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) "
            "{ orders { status brokerOrderId } } }",
            {"b": basket_id, "r": str(uuid.uuid4())},
        )["executeBasket"]
        placed += sum(1 for o in result["orders"] if o["brokerOrderId"])
        rejected += sum(1 for o in result["orders"] if o["status"] == "REJECTED")
        statuses.update(o["status"] for o in result["orders"])
    elapsed = time.perf_counter() - start
    return {
        "orders": baskets * legs,
        "placed": placed,
        "rejected": rejected,
        "too_many_requests": stack.exchange.too_many_requests - refused_before,
        "seconds": elapsed,
        "placed_per_second": placed / elapsed,
        "statuses": dict(sorted(statuses.items())),
    }


def place_orders(stack: LocalStack, rate: int, orders: int) -> list[float]:
    """`placeOrder` latencies (resting LIMIT orders) for a fresh user with the limiter at `rate` (0: off)."""
    stack.recompose(kite_order_rate=rate)
    user = stack.add_user(f"bench_place_{rate}_{uuid.uuid4().hex[:6]}")
    gql = Client(stack, user["token"])
    basket_id = gql("mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": demo_basket()})[
        "createBasket"
    ]["id"]
    gql(
        "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }",
        {"b": basket_id, "r": str(uuid.uuid4())},
    )
    read = "query($b: ID!) { basket(id: $b) { status } }"
    wait_until(lambda: gql(read, {"b": basket_id})["basket"]["status"] == "LIVE")
    samples = []
    for _ in range(orders):
        start = time.perf_counter()
        placed = gql(
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status brokerOrderId } }",
            {"i": demo_order(basket_id)},
        )["placeOrder"]
        samples.append(time.perf_counter() - start)
        if not placed["brokerOrderId"]:
            raise RuntimeError(f"placeOrder did not reach the exchange: {placed}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baskets", type=int, default=3, help="baskets executed per mode")
    parser.add_argument("--legs", type=int, default=20, help="legs per basket (at most 50)")
    parser.add_argument("--orders", type=int, default=100, help="placeOrder calls per latency run")
    args = parser.parse_args()
    print(f"reproduce: .venv/bin/python -m bench.execution {' '.join(sys.argv[1:])}".rstrip())
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackConfig(state_dir=Path(state), port=0, simulate_market=False))
        stack.start()
        stack.serve_in_thread()
        try:
            run(stack, args.baskets, args.legs, args.orders)
        finally:
            stack.stop()


def run(stack: LocalStack, baskets: int, legs: int, orders: int) -> None:
    on = execute_baskets(stack, DEFAULT_ORDER_RATE, baskets, legs)
    assert stack.exchange.flush_postbacks(300)
    off = execute_baskets(stack, 0, baskets, legs)
    assert stack.exchange.flush_postbacks(300)
    print(f"executeBasket: {baskets} baskets x {legs} legs per mode; paper exchange at Kite's 10 order requests/s")
    for name, result in ((f"limiter on ({DEFAULT_ORDER_RATE}/s)", on), ("limiter off", off)):
        print(
            f"  {name:<20} {result['placed_per_second']:6.2f} orders/s placed   "
            f"{int(result['placed']):3d}/{int(result['orders'])} placed   {int(result['rejected']):3d} rejected   "
            f"{int(result['too_many_requests']):3d} HTTP 429   {result['seconds']:6.2f} s"
        )
        print(f"  {'':<20} order statuses as executeBasket returned them: {result['statuses']}")
    ratio = off["placed_per_second"] / on["placed_per_second"] if on["placed_per_second"] else float("nan")
    print(f"  off/on placed-orders-per-second ratio: {ratio:.2f}")

    limited = place_orders(stack, DEFAULT_ORDER_RATE, orders)
    assert stack.exchange.flush_postbacks(300)
    stack.exchange.order_rate = None  # the raw round trip, without Kite's limit either
    try:
        raw = place_orders(stack, 0, orders)
    finally:
        stack.exchange.order_rate = 10
    print("placeOrder over GraphQL -> resolver Lambda -> KiteBroker -> paper exchange (sequential, one client)")
    print(f"  limiter on ({DEFAULT_ORDER_RATE}/s):       {percentiles(limited)}")
    print(f"  limiter and exchange limit off: {percentiles(raw)}")


if __name__ == "__main__":
    main()

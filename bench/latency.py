"""Local p50/p99 of `placeOrder` and `basket(id)` over HTTP against the whole local stack.

    python -m bench.latency [--orders 200] [--reads 300]

Everything is on loopback in this process: the emulator, the resolver Lambda, embedded DynamoDB
and the paper exchange (so placeOrder includes a real Kite-protocol HTTP round trip).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.waiting import wait_until
from local.seed import demo_basket, demo_order
from local.stack import LocalStack, StackConfig


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackConfig(state_dir=Path(state), port=0, simulate_market=False))
        stack.start()
        stack.serve_in_thread()
        try:
            run(stack, args.orders, args.reads)
        finally:
            stack.stop()


def run(stack: LocalStack, orders: int, reads: int) -> None:
    user = stack.add_user("bench")
    session = requests.Session()
    session.headers["Authorization"] = user["token"]

    def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = session.post(f"{stack.url}/graphql", json={"query": query, "variables": variables}, timeout=30).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return dict(body["data"])

    basket = gql("mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": demo_basket()})
    basket_id = basket["createBasket"]["id"]
    gql(
        "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }",
        {"b": basket_id, "r": str(uuid.uuid4())},
    )
    read = "query($b: ID!) { basket(id: $b) { id status orders { id status } positions { netQuantity } } }"
    wait_until(lambda: len(gql(read, {"b": basket_id})["basket"]["positions"]) == 4)

    place = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"
    placed = []
    for _ in range(orders):
        order = demo_order(basket_id)
        start = time.perf_counter()
        gql(place, {"i": order})
        placed.append(time.perf_counter() - start)
    fetched = []
    for _ in range(reads):
        start = time.perf_counter()
        gql(read, {"b": basket_id})
        fetched.append(time.perf_counter() - start)
    print("local stack over HTTP on loopback, one client, sequential requests")
    print(f"  placeOrder (LIMIT, rests at the paper exchange): {percentiles(placed)}")
    print(f"  basket(id) with {4 + orders} orders, 4 positions:   {percentiles(fetched)}")


if __name__ == "__main__":
    main()

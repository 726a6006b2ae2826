"""Concurrent users against the local stack: the Lambdas in-process one request at a time (before) against a
pool of execution environments (after), side by side in one run.

    python -m bench.concurrency [--clients 20] [--orders 10] [--environments 0 1 4] [--reads 60]

For each `--environments` value a fresh `basketgraph dev` runs as its own process (market simulator off,
`--lambda-environments N`; 0 is the single in-process instance). Then:

- load: `--clients` users (each with a LIVE basket) at once, each placing `--orders` LIMIT orders that rest
  at the paper exchange, reading its basket after each, twice: flat out (each client sends its next order as
  soon as its read is answered: the most orders/s the stack sustains, and latencies that are mostly queueing
  behind the other 19 clients), then paced (together they offer `--rate` orders/s, 10 by default: one Kite
  account's order limit). For each, orders/s (all orders over the wall time), `placeOrder` p50/p99, and the
  CPU the stack process and its environments used per order (/proc).
- slicing: one user places orders of 17,550 NIFTY options (10 freeze-size slices, the most one order may
  have; the issue's 24,000 is refused by that cap), each sent slice by slice under the account's 10 orders/s
  limit, while another user reads `me` as fast as it is answered: `me` p99 while a sliced order is in flight.

Goals: ≥ 10 orders/s (one Kite account's order limit) flat out, and at 10 orders/s offered that rate sustained
with placeOrder p99 ≤ 500 ms; CPU per order ≤ 100 ms,
`me` p99 ≤ 100 ms while an order is sliced. Everything talks to 127.0.0.1 only; counts and times are bounded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.dev_process import DevStack, gql_session
from bench.waiting import wait_until
from local.seed import demo_basket, demo_order

CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
EXECUTE = "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }"
STATUS = "query($b: ID!) { basket(id: $b) { status } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"
READ = "query($b: ID!) { basket(id: $b) { id status orders { id status } positions { netQuantity } } }"
ME = "{ me { id } }"
SLICED_QUANTITY = 17_550  # 10 slices of 1,755 (27 lots of 65 under NIFTY's freeze quantity of 1,800)


@dataclass
class Phase:
    orders_per_second: float
    place_p50: float
    place_p99: float
    cpu_per_order: float


@dataclass
class Figures:
    environments: int
    flat_out: Phase
    paced: Phase
    me_p99: float
    me_reads: int
    sliced_orders: int
    stop_seconds: float
    left_running: int


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return statistics.median(ordered) if q == 0.5 else ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def live_basket(gql: Any) -> str:
    basket_id = str(gql(CREATE, {"i": demo_basket("banknifty-straddle")})["createBasket"]["id"])
    gql(EXECUTE, {"b": basket_id, "r": str(uuid.uuid4())})
    wait_until(lambda: gql(STATUS, {"b": basket_id})["basket"]["status"] == "LIVE", timeout=300, interval=0.3)
    return basket_id


def live_users(stack: DevStack, clients: int) -> list[tuple[Any, str]]:
    """`clients` users, each signed in with a LIVE basket: (its GraphQL session, its basket id)."""
    sessions = [gql_session(stack.url, stack.user(f"load{i}")["token"]) for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        return list(zip(sessions, pool.map(live_basket, sessions), strict=True))


def load(stack: DevStack, users: list[tuple[Any, str]], orders: int, rate: float | None) -> Phase:
    """Every user places `orders` orders, reading its basket after each: at once, each as soon as its last
    answer came (`rate` None: what the stack sustains flat out), or paced so that all of them together offer
    `rate` orders/s (each order sent when it is due, or at once if its client is late, and timed from when it
    was due)."""
    clients = len(users)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start_line = threading.Barrier(clients + 1)
    began = 0.0

    def client(i: int) -> None:
        gql, basket_id = users[i]
        start_line.wait()
        for k in range(orders):
            sent = time.perf_counter()
            if rate is not None:  # timed from when it was due: a client running late counts its lateness
                sent = began + (k * clients + i) / rate
                time.sleep(max(0.0, sent - time.perf_counter()))
            gql(PLACE, {"i": demo_order(basket_id)})
            latencies[i].append(time.perf_counter() - sent)
            gql(READ, {"b": basket_id})

    with ThreadPoolExecutor(clients) as pool:
        running = [pool.submit(client, i) for i in range(clients)]
        cpu, began = stack.cpu_seconds(), time.perf_counter()
        start_line.wait()
        for future in running:
            future.result()
        wall, cpu = time.perf_counter() - began, stack.cpu_seconds() - cpu
    total = clients * orders
    placed = [s for c in latencies for s in c]
    return Phase(total / wall, p(placed, 0.5), p(placed, 0.99), cpu / total)


def me_while_slicing(stack: DevStack, reads: int, sliced: int) -> tuple[list[float], int]:
    """`me` latencies of one user measured only while another user's sliced order is in flight."""
    slicer, reader = stack.user("slicer"), stack.user("reader")
    slicer_gql, reader_gql = gql_session(stack.url, slicer["token"]), gql_session(stack.url, reader["token"])
    basket_id = live_basket(slicer_gql)
    reader_gql(ME)  # warm
    in_flight = threading.Event()
    done = threading.Event()
    placed = 0

    def slice_orders() -> None:
        nonlocal placed
        for _ in range(sliced):
            in_flight.set()
            slicer_gql(PLACE, {"i": demo_order(basket_id, quantity=SLICED_QUANTITY)})
            in_flight.clear()
            placed += 1
        done.set()

    worker = threading.Thread(target=slice_orders)
    worker.start()
    samples: list[float] = []
    deadline = time.monotonic() + 300
    while not done.is_set() and len(samples) < reads and time.monotonic() < deadline:
        if not in_flight.wait(0.05):
            continue
        began = time.perf_counter()
        reader_gql(ME)
        took = time.perf_counter() - began
        if in_flight.is_set():  # the sliced order was still in flight when `me` was answered
            samples.append(took)
    worker.join()
    return samples, placed


def run(environments: int, args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory() as state:
        stack = DevStack.start(Path(state), "--still-market", "--lambda-environments", str(environments))
        try:
            users = live_users(stack, args.clients)
            flat_out = load(stack, users, args.orders, None)
            paced = load(stack, users, args.orders, args.rate)
            me, sliced_orders = me_while_slicing(stack, args.reads, args.sliced)
        finally:
            stop_seconds, left = stack.stop()
    return Figures(
        environments,
        flat_out,
        paced,
        p(me, 0.99),
        len(me),
        sliced_orders,
        stop_seconds,
        len(left),
    )


def report(rows: list[Figures], args: argparse.Namespace) -> None:
    print(f"\n{args.clients} clients x {args.orders} orders (+ a basket read after each), 2-core machine,")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = f"{'environments':>24} {'load':>14} {'orders/s':>9} {'place p50':>10} {'place p99':>10}"
    print(header + f" {'CPU/order':>10} {'me p99 (n)':>16} {'stop':>6} {'left':>5}")
    for row in rows:
        name = "0 (in-process, before)" if row.environments == 0 else f"{row.environments} (pool)"
        for label, phase in (("flat out", row.flat_out), (f"paced {args.rate:g}/s", row.paced)):
            line = (
                f"{name:>24} {label:>14} {phase.orders_per_second:9.1f} {phase.place_p50 * 1000:8.0f}ms"
                f" {phase.place_p99 * 1000:8.0f}ms {phase.cpu_per_order * 1000:8.0f}ms"
            )
            if phase is row.flat_out:
                line += (
                    f" {row.me_p99 * 1000:8.0f}ms ({row.me_reads:>4}) {row.stop_seconds:5.1f}s {row.left_running:>5}"
                )
            print(line)
            name = ""
    before, after = rows[0], rows[-1]
    if len(rows) > 1:
        throughput = after.flat_out.orders_per_second / before.flat_out.orders_per_second
        print(
            f"after / before: orders/s flat out x{throughput:.1f}, "
            f"placeOrder p99 paced x{after.paced.place_p99 / before.paced.place_p99:.2f}, "
            f"me p99 x{after.me_p99 / before.me_p99:.2f}"
        )
    goals = [
        ("orders/s >= 10 flat out", after.flat_out.orders_per_second >= 10),
        (f"placeOrder p99 <= 500 ms at {args.rate:g} orders/s", after.paced.place_p99 <= 0.5),
        (f"{args.rate:g} orders/s sustained (within 5%)", after.paced.orders_per_second >= 0.95 * args.rate),
        ("stack CPU per order <= 100 ms flat out", after.flat_out.cpu_per_order <= 0.1),
        ("me p99 <= 100 ms while an order is sliced", after.me_p99 <= 0.1),
    ]
    for goal, met in goals:
        print(f"  goal {goal} ({after.environments} environments): {'met' if met else 'NOT met'}")
    environments = " ".join(str(r.environments) for r in rows)
    print(
        f"reproduce: python -m bench.concurrency --clients {args.clients} --orders {args.orders}"
        f" --rate {args.rate:g} --environments {environments} --reads {args.reads} --sliced {args.sliced}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--orders", type=int, default=10, help="orders per client")
    parser.add_argument("--environments", type=int, nargs="+", default=[0, 1, 4], help="first is the baseline")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="orders/s all clients offer together in the paced phase"
    )
    parser.add_argument("--reads", type=int, default=60, help="at most this many `me` reads while slicing")
    parser.add_argument("--sliced", type=int, default=4, help="sliced orders placed while `me` is read")
    args = parser.parse_args()
    rows = []
    for environments in args.environments:
        rows.append(run(environments, args))
        row = rows[-1]
        print(
            f"  {environments} environments: {row.flat_out.orders_per_second:.1f} orders/s flat out,"
            f" placeOrder p99 {row.paced.place_p99 * 1000:.0f} ms at {args.rate:g}/s",
            flush=True,
        )
    report(rows, args)


if __name__ == "__main__":
    main()

"""A model-based test of exits on the local stack (issue 17): seeded random interleavings of placeOrder, fills
at random moments (resting LIMIT orders crossed by price moves, thin liquidity), cancelOrder, exitBasket and
risk exits (a max-loss breach seen by the stream's risk watch). Whenever an exit reports done, every position
of the basket is at zero and the basket is CLOSED; no run ends with the basket EXITING.

`EXIT_MODEL_RUNS` (default 20) sets how many runs; `EXIT_MODEL_SEED` the first seed (each run is reproducible).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_broker_execution import leg
from tests.graphql_client import graphql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, CE_26500, wait_until
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

RUNS = int(os.environ.get("EXIT_MODEL_RUNS", "20"))
FIRST_SEED = int(os.environ.get("EXIT_MODEL_SEED", "1700"))
TICK = Decimal("0.05")
REFS = (InstrumentRef("NFO", CE_26000), InstrumentRef("NFO", CE_26500))
TERMINAL = {"COMPLETE", "CANCELLED", "REJECTED"}

CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
EXECUTE = "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) { basket { id } } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"
CANCEL = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"
EXIT = (
    "mutation($id: ID!, $rid: String!) { exitBasket(basketId: $id, clientRequestId: $rid) "
    "{ basket { status positions { netQuantity } } } }"
)
PNL = "query($id: ID!) { pnl(basketId: $id) { pnl asOf } }"
MAX_LOSS = Decimal("400.00")
VIEW = (
    "query($id: ID!) { basket(id: $id) { status statusMessage orders { id status side quantity filledQuantity } "
    "positions { tradingsymbol netQuantity } } }"
)


def view(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, VIEW, {"id": basket_id})["basket"])


def closed_means_flat(basket: dict[str, Any]) -> bool:
    """The property under test, on any reading of the basket: CLOSED only when every position is at zero."""
    return basket["status"] != "CLOSED" or all(p["netQuantity"] == 0 for p in basket["positions"])


def allowed(body: dict[str, Any]) -> None:
    """A mutation the model may send at any moment: refused only as a Conflict (the basket is not LIVE, or an
    exit is already under way); anything else fails the test."""
    for error in body.get("errors") or []:
        assert error.get("errorType") in ("Conflict",), error


def tick_below(price: Decimal, ticks: int) -> Decimal:
    return max(TICK, (price - ticks * TICK).quantize(TICK))


class Run:
    """One basket's life under one seed."""

    def __init__(self, stack: LocalStack, user: dict[str, str], seed: int) -> None:
        self.stack, self.token, self.rng = stack, user["token"], random.Random(seed)
        self.base = {ref: stack.exchange.last_price(ref) or Decimal(100) for ref in REFS}
        self.exited = False

    def price(self, ref: InstrumentRef) -> Decimal:
        return self.stack.exchange.last_price(ref) or self.base[ref]

    def start(self) -> str:
        risk = {"maxLoss": str(MAX_LOSS)} if self.rng.random() < 0.5 else None
        self.max_loss = risk is not None
        strategies = [{"name": "s", "legs": [leg(CE_26000), leg(CE_26500, side="SELL")]}]
        created = data(
            self.stack, self.token, CREATE, {"i": {"name": "exit model", "strategies": strategies, "risk": risk}}
        )
        basket_id = str(created["createBasket"]["id"])
        data(self.stack, self.token, EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})
        wait_until(lambda: view(self.stack, self.token, basket_id)["status"] != "EXECUTING", timeout=60)
        return basket_id

    def step(self, basket_id: str) -> None:
        action = self.rng.choice(["market", "limit", "limit", "fill", "cancel", "exit", "risk", "thin"])
        ref = self.rng.choice(REFS)
        side = self.rng.choice(["BUY", "SELL"])
        if action == "market":
            order = self.order(basket_id, ref, side, 65) | {"orderType": "MARKET"}
            allowed(graphql(self.stack, self.token, PLACE, {"i": order}))
        elif action == "limit":  # rests a few ticks away from the market until a price move crosses it
            ticks = self.rng.randint(2, 6)
            price = tick_below(self.price(ref), ticks) if side == "BUY" else self.price(ref) + ticks * TICK
            order = self.order(basket_id, ref, side, 65 * self.rng.randint(1, 2))
            order |= {"orderType": "LIMIT", "price": str(price)}
            allowed(graphql(self.stack, self.token, PLACE, {"i": order}))
        elif action == "fill":  # the market moves up or down by a few ticks: resting orders on that side fill
            move = self.rng.choice([-1, 1]) * self.rng.randint(3, 8) * TICK
            self.stack.set_prices({ref: max(TICK, self.price(ref) + move)})
        elif action == "cancel":
            working = [o for o in view(self.stack, self.token, basket_id)["orders"] if o["status"] not in TERMINAL]
            if working:
                body = graphql(self.stack, self.token, CANCEL, {"id": self.rng.choice(working)["id"]})
                for error in body.get("errors") or []:  # it may have filled or gone meanwhile
                    assert error.get("errorType") in ("Conflict", "BrokerRejected"), error
        elif action == "exit":
            self.exit(basket_id)
        elif action == "risk":  # the long call falls: past the max loss (when the basket has one) the watch exits
            long_call = REFS[0]
            moved_at = datetime.now(UTC)
            self.stack.set_prices({long_call: tick_below(self.price(long_call), self.rng.randint(130, 240))})
            if self.max_loss:  # a breach the P&L shows is acted on: the watch takes the basket out of LIVE
                wait_until(lambda: self.risk_settled(basket_id, moved_at), timeout=90)
        elif action == "thin":
            self.stack.exchange.liquidity = self.rng.choice([None, 25, 40])
        time.sleep(self.rng.uniform(0, 0.15))  # what lands meanwhile (postbacks, fills) interleaves differently

    def risk_settled(self, basket_id: str, moved_at: datetime) -> bool:
        """The basket left LIVE, or its P&L since the price move (the mark landed) is within the max loss."""
        if view(self.stack, self.token, basket_id)["status"] != "LIVE":
            return True
        pnl = data(self.stack, self.token, PNL, {"id": basket_id})["pnl"]
        if pnl["asOf"] is None or datetime.fromisoformat(pnl["asOf"]) < moved_at:
            return False
        return Decimal(pnl["pnl"]) > -MAX_LOSS

    @staticmethod
    def order(basket_id: str, ref: InstrumentRef, side: str, quantity: int) -> dict[str, Any]:
        """A PlaceOrderInput of the basket (a fresh clientRequestId), its type and price still to add."""
        return {
            "basketId": basket_id,
            "clientRequestId": str(uuid.uuid4()),
            "exchange": ref.exchange,
            "tradingsymbol": ref.tradingsymbol,
            "side": side,
            "quantity": quantity,
        }

    def exit(self, basket_id: str) -> None:
        body = graphql(self.stack, self.token, EXIT, {"id": basket_id, "rid": str(uuid.uuid4())})
        allowed(body)
        if body.get("data") and body["data"].get("exitBasket"):
            self.exited = True
            reported = body["data"]["exitBasket"]["basket"]
            assert closed_means_flat(reported), reported

    def finish(self, basket_id: str) -> dict[str, Any]:
        """Exit if nothing did; then wait for the basket to settle (no order working, not EXITING)."""
        if view(self.stack, self.token, basket_id)["status"] == "LIVE":
            self.exit(basket_id)
        readings: list[dict[str, Any]] = []

        def settled() -> bool:
            basket = view(self.stack, self.token, basket_id)
            readings.append(basket)
            if basket["status"] == "LIVE" and all(o["status"] in TERMINAL for o in basket["orders"]):
                self.exit(basket_id)  # an exit refused as a Conflict while the basket was EXECUTING
            idle = all(o["status"] in TERMINAL for o in basket["orders"])
            return idle and basket["status"] in ("CLOSED", "FAILED")

        try:
            wait_until(settled, timeout=90, interval=0.1)
        except AssertionError:
            raise AssertionError(f"basket {basket_id} never settled: {readings[-1]}") from None
        assert all(closed_means_flat(b) for b in readings), [b for b in readings if not closed_means_flat(b)]
        return readings[-1]


def test_every_exit_ends_closed_and_flat_whatever_lands_meanwhile(stack: LocalStack) -> None:
    user = stack.add_user("exit_model")
    outcomes: list[tuple[int, str, str | None]] = []
    for seed in range(FIRST_SEED, FIRST_SEED + RUNS):
        run = Run(stack, user, seed)
        try:
            basket_id = run.start()
            for _ in range(run.rng.randint(2, 7)):
                run.step(basket_id)
            final = run.finish(basket_id)
        finally:
            stack.exchange.liquidity = None
            stack.set_prices(run.base)
        outcomes.append((seed, final["status"], final["statusMessage"]))
        # Then no run ends EXITING, and on a healthy stack every exit finishes: CLOSED, every position at zero
        assert final["status"] == "CLOSED", (seed, final)
        assert all(p["netQuantity"] == 0 for p in final["positions"]), (seed, final)
    limit_exits = sum("max loss" in (message or "") for _, _, message in outcomes)
    print(f"{RUNS} runs from seed {FIRST_SEED}: all CLOSED and flat; {limit_exits} ended by a max-loss exit")
    assert len(outcomes) == RUNS
    assert RUNS < 10 or limit_exits > 0, "no run exercised a risk exit"

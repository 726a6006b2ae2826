"""A leg's stop-loss held at the broker on the local stack (issue 16): GraphQL over HTTP, the stream handler fed by
the poller, the paper exchange over real HTTP triggering the SL-M on its own ticker. The SL-M is placed once the
entry fills at the stop's level; a mark through it fills it at the exchange with nothing sent by us; our target and
exitBasket cancel it first; and it fills while our stream processing is down, its trigger recorded when it is back."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_leg_exits import CE_26000, CE_26500, SETTLE, live_basket, mark
from tests.graphql_client import graphql_data as data
from tests.helpers import wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

HELD = {
    "stopLoss": {"basis": "POINTS", "value": "20"},
    "target": {"basis": "POINTS", "value": "30"},
    "stopLossMode": "AT_BROKER",
}
ORDERS = (
    "query($id: ID!) { basket(id: $id) { status statusMessage orders { id status side tradingsymbol quantity "
    "orderType triggerPrice averagePrice clientRequestId } positions { tradingsymbol netQuantity } } }"
)
RISK = "query($id: ID!) { riskState(basketId: $id) { legs { stopLoss triggered triggeredAt stopOrderIds } } }"
EXIT = "mutation($id: ID!, $rid: String!) { exitBasket(basketId: $id, clientRequestId: $rid) { basket { status } } }"


def basket(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, ORDERS, {"id": basket_id})["basket"])


def sells(stack: LocalStack, token: str, basket_id: str) -> list[dict[str, Any]]:
    orders = basket(stack, token, basket_id)["orders"]
    return [o for o in orders if o["tradingsymbol"] == CE_26000 and o["side"] == "SELL"]


def risk(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    (leg,) = data(stack, token, RISK, {"id": basket_id})["riskState"]["legs"]
    return dict(leg)


def call_net(stack: LocalStack, token: str, basket_id: str) -> int:
    nets = {p["tradingsymbol"]: p["netQuantity"] for p in basket(stack, token, basket_id)["positions"]}
    return int(nets.get(CE_26000, 0))


def held_stop(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    """The SL-M once it rests at the exchange, waiting for its trigger."""

    def resting() -> bool:
        return any(
            o["orderType"] == "SL_M" and o["status"] == "TRIGGER_PENDING" for o in sells(stack, token, basket_id)
        )

    wait_until(resting, timeout=SETTLE)
    (stop,) = sells(stack, token, basket_id)
    return stop


def test_the_sl_m_is_held_after_the_entry_and_a_mark_through_the_stop_fills_it_at_the_exchange(
    stack: LocalStack,
) -> None:
    token = stack.add_user(f"heldsl{uuid.uuid4().hex[:6]}")["token"]
    # Given a LIVE basket whose long call holds a 20-point stop-loss at the broker
    basket_id, entry = live_basket(stack, token, HELD)
    # Then, once the entry filled, one protected SL-M for the leg's lot rests at the exchange at entry - 20
    stop = held_stop(stack, token, basket_id)
    assert (stop["quantity"], Decimal(stop["triggerPrice"])) == (65, entry - 20)
    assert stop["clientRequestId"].startswith("legstop-") and stop["clientRequestId"].endswith("-0")
    wait_until(lambda: risk(stack, token, basket_id)["stopOrderIds"] == [stop["id"]], timeout=SETTLE)
    # When the market falls 0.05 above the stop nothing happens; through it, the exchange fills the SL-M
    mark(stack, entry - Decimal("19.95"))
    assert sells(stack, token, basket_id)[0]["status"] == "TRIGGER_PENDING"
    mark(stack, entry - 21)
    wait_until(lambda: call_net(stack, token, basket_id) == 0, timeout=SETTLE)
    wait_until(lambda: risk(stack, token, basket_id)["triggered"] == "STOP_LOSS", timeout=SETTLE)
    # Then the leg is flat with exactly one exit order, the SL-M (ours never fired), and its state says why
    (only,) = sells(stack, token, basket_id)
    assert (only["id"], only["status"]) == (stop["id"], "COMPLETE")
    state = risk(stack, token, basket_id)
    assert Decimal(state["triggeredAt"]) == Decimal(only["averagePrice"])
    final = basket(stack, token, basket_id)
    assert final["status"] == "LIVE"
    assert f"stop-loss {entry - 20:.2f} held at the broker filled at" in final["statusMessage"]
    assert {p["tradingsymbol"]: p["netQuantity"] for p in final["positions"]}[CE_26500] == -65
    mark(stack, entry - 30)
    assert len(sells(stack, token, basket_id)) == 1


def test_the_target_cancels_the_held_sl_m_first_and_exits_once(stack: LocalStack) -> None:
    token = stack.add_user(f"heldtg{uuid.uuid4().hex[:6]}")["token"]
    basket_id, entry = live_basket(stack, token, HELD)
    stop = held_stop(stack, token, basket_id)
    # When the call reaches its target (ours)
    mark(stack, entry + 30)
    wait_until(lambda: call_net(stack, token, basket_id) == 0, timeout=SETTLE)
    # Then the SL-M was cancelled and one protected MARKET exit filled
    orders = {o["id"]: o for o in sells(stack, token, basket_id)}
    assert orders.pop(stop["id"])["status"] == "CANCELLED"
    (exit_order,) = orders.values()
    assert (exit_order["orderType"], exit_order["status"], exit_order["quantity"]) == ("MARKET", "COMPLETE", 65)
    assert risk(stack, token, basket_id)["triggered"] == "TARGET"
    # When the price then falls through the old stop, nothing more is sent or filled
    mark(stack, entry - 25)
    assert len(sells(stack, token, basket_id)) == 2
    assert call_net(stack, token, basket_id) == 0


def test_exit_basket_cancels_the_held_sl_m(stack: LocalStack) -> None:
    token = stack.add_user(f"heldex{uuid.uuid4().hex[:6]}")["token"]
    basket_id, _ = live_basket(stack, token, HELD)
    stop = held_stop(stack, token, basket_id)
    data(stack, token, EXIT, {"id": basket_id, "rid": str(uuid.uuid4())})
    wait_until(lambda: basket(stack, token, basket_id)["status"] == "CLOSED", timeout=SETTLE)
    orders = {o["id"]: o for o in sells(stack, token, basket_id)}
    assert orders.pop(stop["id"])["status"] == "CANCELLED"
    # one MARKET exit filled (a turn of the loop that lost its race stores its orders CANCELLED, never sent)
    filled = [o["orderType"] for o in orders.values() if o["status"] == "COMPLETE"]
    assert filled == ["MARKET"] and {o["status"] for o in orders.values()} <= {"COMPLETE", "CANCELLED"}
    assert call_net(stack, token, basket_id) == 0


def test_the_held_stop_fills_while_our_stream_processing_is_down(stack: LocalStack) -> None:
    token = stack.add_user(f"heldout{uuid.uuid4().hex[:6]}")["token"]
    basket_id, entry = live_basket(stack, token, HELD)
    stop = held_stop(stack, token, basket_id)
    wait_until(lambda: risk(stack, token, basket_id)["stopOrderIds"] == [stop["id"]], timeout=SETTLE)
    # When our stream poller (and so every leg watch, P&L and risk exit) is down, and the market falls through
    stack.poller.stop()
    try:
        mark(stack, entry - 25)
        # Then the exchange fills the SL-M all the same (its postback reaches the store), and nobody saw it yet
        wait_until(lambda: sells(stack, token, basket_id)[0]["status"] == "COMPLETE", timeout=SETTLE)
        wait_until(lambda: call_net(stack, token, basket_id) == 0, timeout=SETTLE)
        assert risk(stack, token, basket_id)["triggered"] is None
    finally:
        stack.poller.start()
    # When the stream is back, the leg's state records the trigger from the fill; still one exit order
    wait_until(lambda: risk(stack, token, basket_id)["triggered"] == "STOP_LOSS", timeout=SETTLE)
    (only,) = sells(stack, token, basket_id)
    assert only["id"] == stop["id"] and call_net(stack, token, basket_id) == 0


def test_a_leg_stopped_at_the_broker_is_entered_again_with_a_new_sl_m(stack: LocalStack) -> None:
    token = stack.add_user(f"heldre{uuid.uuid4().hex[:6]}")["token"]
    basket_id, entry = live_basket(stack, token, {**HELD, "reEntry": {"times": 1}})
    first = held_stop(stack, token, basket_id)
    # When the exchange fills the SL-M, the leg is entered again at the market (now entry - 21)
    mark(stack, entry - 21)

    def buys() -> list[dict[str, Any]]:
        orders = basket(stack, token, basket_id)["orders"]
        return [o for o in orders if o["tradingsymbol"] == CE_26000 and o["side"] == "BUY"]

    wait_until(lambda: len(buys()) == 2 and all(o["status"] == "COMPLETE" for o in buys()), timeout=SETTLE)
    wait_until(lambda: call_net(stack, token, basket_id) == 65, timeout=SETTLE)

    # Then the new entry holds its own SL-M, 20 below its own fill, named for the next cycle
    def second_held() -> bool:
        return any(o["id"] != first["id"] and o["status"] == "TRIGGER_PENDING" for o in sells(stack, token, basket_id))

    wait_until(second_held, timeout=SETTLE)
    (second,) = [o for o in sells(stack, token, basket_id) if o["id"] != first["id"]]
    again = Decimal(next(o for o in buys() if o["clientRequestId"].startswith("reentry-"))["averagePrice"])
    assert second["clientRequestId"].endswith("-1") and Decimal(second["triggerPrice"]) == again - 20
    state = risk(stack, token, basket_id)
    assert state["triggered"] is None and state["stopOrderIds"] == [second["id"]]

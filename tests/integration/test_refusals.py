"""Bad input and other users' data: a clear errorType, a message a person can act on, and nothing written."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import CE_26000, exchange_order_count, invoke, live_condor

if TYPE_CHECKING:
    from tests.stack_fixtures import WriteLog


def refused(result: Any) -> tuple[str, str]:
    assert isinstance(result, dict) and "error" in result, f"expected a refusal, got {result}"
    return result["error"]["type"], result["error"]["message"]


def leg(**overrides: Any) -> dict[str, Any]:
    return {"exchange": "NFO", "tradingsymbol": CE_26000, "side": "BUY", "lots": 1, **overrides}


def basket_with(leg_input: dict[str, Any]) -> dict[str, Any]:
    return {"input": {"name": "bad", "strategies": [{"name": "s", "legs": [leg_input]}]}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (basket_with(leg(lots=0)), "lots must be positive"),
        (basket_with(leg(lots=-2)), "lots must be positive"),
        (basket_with(leg(tradingsymbol="NIFTY99JAN1CE")), "unknown instrument NFO:NIFTY99JAN1CE"),
        (basket_with(leg(orderType="LIMIT")), "a LIMIT order needs a price"),
        (basket_with(leg(orderType="LIMIT", price="100.03")), "not a multiple of its tick size 0.05"),
        (basket_with(leg(orderType="SL", price="100")), "a SL order needs a trigger price"),
        (basket_with(leg(orderType="SL_M")), "a SL_M order needs a trigger price"),
        (basket_with(leg(orderType="LIMIT", price="abc")), "price must be a plain decimal"),
        (basket_with(leg(side="HOLD")), "side must be one of BUY, SELL"),
        ({"input": {"name": "x" * 100_000}}, "at most 200 allowed"),
        ({"input": {"name": "x" * 150}}, "basket name is 150 characters long; at most 100 allowed"),
        ({"input": {"name": "   "}}, "basket name must not be empty"),
    ],
)
def test_bad_baskets_are_refused_and_write_nothing(
    alice: dict[str, str], writes: WriteLog, arguments: dict[str, Any], message: str
) -> None:
    kind, text = refused(invoke("Mutation", "createBasket", arguments, alice["sub"]))
    assert kind == "ValidationError"
    assert message in text
    assert writes.made() == []


@pytest.fixture
def live_basket(alice: dict[str, str]) -> dict[str, Any]:
    return live_condor(alice["sub"])


@pytest.mark.parametrize(
    ("quantity", "extra", "message"),
    [
        (100, {}, "quantity 100 of NFO:NIFTY26DEC26000CE is not a multiple of its lot size 65"),
        (0, {}, "quantity must be positive"),
        (-65, {}, "quantity must be positive"),
        (65, {"orderType": "LIMIT"}, "a LIMIT order needs a price"),
        (65, {"orderType": "LIMIT", "price": "12.34"}, "not a multiple of its tick size"),
        (65, {"orderType": "SL", "price": "12.30"}, "needs a trigger price"),
        (65, {"tradingsymbol": "UNKNOWN"}, "unknown instrument"),
    ],
)
def test_bad_orders_are_refused_and_place_nothing(
    alice: dict[str, str],
    live_basket: dict[str, Any],
    stack: Any,
    writes: WriteLog,
    quantity: int,
    extra: dict[str, Any],
    message: str,
) -> None:
    before = exchange_order_count(stack, alice["sub"])
    writes.clear()
    order = {
        "basketId": live_basket["id"],
        "clientRequestId": str(uuid.uuid4()),
        "exchange": "NFO",
        "tradingsymbol": CE_26000,
        "side": "BUY",
        "quantity": quantity,
        **extra,
    }
    kind, text = refused(invoke("Mutation", "placeOrder", {"input": order}, alice["sub"]))
    assert kind == "ValidationError"
    assert message in text
    assert writes.made() == []
    assert exchange_order_count(stack, alice["sub"]) == before


def test_stale_expected_version_is_a_conflict(alice: dict[str, str], writes: WriteLog) -> None:
    basket = invoke("Mutation", "createBasket", {"input": {"name": "v"}}, alice["sub"])
    writes.clear()
    kind, text = refused(
        invoke(
            "Mutation", "updateBasket", {"input": {"id": basket["id"], "expectedVersion": 7, "name": "w"}}, alice["sub"]
        )
    )
    assert kind == "Conflict"
    assert "is at version 1, not 7" in text
    assert writes.made() == []


def test_executing_an_empty_or_a_live_basket_is_refused(
    alice: dict[str, str], live_basket: dict[str, Any], writes: WriteLog, stack: Any
) -> None:
    empty = invoke("Mutation", "createBasket", {"input": {"name": "empty"}}, alice["sub"])
    before = exchange_order_count(stack, alice["sub"])
    writes.clear()
    request = {"basketId": empty["id"], "clientRequestId": str(uuid.uuid4())}
    kind, text = refused(invoke("Mutation", "executeBasket", request, alice["sub"]))
    assert (kind, "no legs" in text) == ("ValidationError", True)
    kind, text = refused(
        invoke(
            "Mutation",
            "executeBasket",
            {"basketId": live_basket["id"], "clientRequestId": str(uuid.uuid4())},
            alice["sub"],
        )
    )
    assert (kind, "basket is LIVE" in text) == ("Conflict", True)
    assert writes.made() == []
    assert exchange_order_count(stack, alice["sub"]) == before


def test_another_user_can_neither_see_nor_touch_a_basket_or_its_orders(
    alice: dict[str, str], bob: dict[str, str], live_basket: dict[str, Any], writes: WriteLog, stack: Any
) -> None:
    basket_id = live_basket["id"]
    order_id = live_basket["orders"][0]["id"]
    before = exchange_order_count(stack, alice["sub"])
    writes.clear()
    attempts = [
        ("Query", "basket", {"id": basket_id}),
        ("Query", "order", {"id": order_id}),
        ("Query", "positions", {"basketId": basket_id}),
        ("Query", "pnl", {"basketId": basket_id}),
        (
            "Mutation",
            "updateBasket",
            {"input": {"id": basket_id, "expectedVersion": live_basket["version"], "name": "mine"}},
        ),
        ("Mutation", "deleteBasket", {"id": basket_id, "expectedVersion": live_basket["version"]}),
        ("Mutation", "executeBasket", {"basketId": basket_id, "clientRequestId": str(uuid.uuid4())}),
        ("Mutation", "exitBasket", {"basketId": basket_id, "clientRequestId": str(uuid.uuid4())}),
        ("Mutation", "cancelOrder", {"id": order_id}),
        ("Mutation", "cancelAllOrders", {"basketId": basket_id}),
        (
            "Mutation",
            "placeOrder",
            {
                "input": {
                    "basketId": basket_id,
                    "clientRequestId": str(uuid.uuid4()),
                    "exchange": "NFO",
                    "tradingsymbol": CE_26000,
                    "side": "BUY",
                    "quantity": 65,
                }
            },
        ),
    ]
    for parent, field, arguments in attempts:
        kind, text = refused(invoke(parent, field, arguments, bob["sub"]))
        assert kind == "NotFound", (field, kind, text)
        assert alice["sub"] not in text
    # listing its orders is NotFound too, as for a basket nobody has (issue 12)
    assert refused(invoke("Query", "orders", {"basketId": basket_id, "limit": 50}, bob["sub"]))[0] == "NotFound"
    everything = invoke("Query", "orders", {"limit": 100}, bob["sub"])
    assert order_id not in {o["id"] for o in everything["items"]}
    baskets = invoke("Query", "baskets", {"limit": 100}, bob["sub"])
    assert basket_id not in {b["id"] for b in baskets["items"]}
    assert writes.made() == []
    assert exchange_order_count(stack, alice["sub"]) == before

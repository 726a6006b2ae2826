"""Numbers and sizes are bounded before any work: plain ASCII decimals under documented ceilings, trigger
prices only where they mean something, quantities the broker takes in one request, legs counted first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.graphql_client import graphql
from tests.helpers import CE_26000, an_order_input, condor_input, live_condor
from trading.model import MAX_LEGS
from trading.rules.pre_trade import MAX_LOTS_PER_LEG, MAX_SLICES

if TYPE_CHECKING:
    from local.stack import LocalStack
    from tests.security.conftest import Recorder

pytestmark = pytest.mark.e2e

CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id quantity } }"
ARABIC_INDIC = "\u0663\u0661\u0668.\u0666\u0665"  # 318.65 in Arabic-Indic digits
FULLWIDTH = "\uff13\uff11\uff18.\uff16\uff15"  # 318.65 in full-width digits
NOT_PLAIN = ["1e309", "1E+30", "9" * 31, ARABIC_INDIC, FULLWIDTH, "1_0.05", " 318.65", "NaN", "Infinity", "318.650001"]
NIFTY_LOT, NIFTY_FREEZE = 65, 1800
MOST_LOTS = (NIFTY_FREEZE // NIFTY_LOT) * MAX_SLICES  # 27-lot slices, ten of them


def a_leg(**overrides: Any) -> dict[str, Any]:
    return {"exchange": "NFO", "tradingsymbol": CE_26000, "side": "BUY", "lots": 1, **overrides}


def basket_with(*legs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**condor_input(), "strategies": [{"name": "s", "legs": list(legs)}], **fields}


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["path"] is not None and error["locations"], error
    return error["errorType"], error["message"]


@pytest.mark.parametrize("number", NOT_PLAIN)
def test_a_price_or_amount_that_is_not_a_plain_decimal_is_refused(
    stack: LocalStack, alice: dict[str, str], user_writes: Recorder, number: str
) -> None:
    as_price = basket_with(a_leg(orderType="LIMIT", price=number))
    as_trigger = basket_with(a_leg(orderType="SL", price="318.65", triggerPrice=number))
    as_max_loss = {**condor_input(), "risk": {"maxLoss": number}}
    as_target = {**condor_input(), "risk": {"target": number}}

    for given in (as_price, as_trigger, as_max_loss, as_target):
        kind, message = refusal(graphql(stack, alice["token"], CREATE, {"i": given}))
        assert (kind, "plain decimal" in message) == ("ValidationError", True), message
    assert user_writes.calls == []


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"risk": {"maxLoss": "1000000000.01"}}, "ceiling"),
        ({"risk": {"target": "999999999999"}}, "ceiling"),
        ({"strategies": [{"name": "s", "legs": [a_leg(orderType="LIMIT", price="10000000.05")]}]}, "ceiling"),
        ({"strategies": [{"name": "s", "legs": [a_leg(triggerPrice="300.00")]}]}, "no trigger price"),
        (
            {"strategies": [{"name": "s", "legs": [a_leg(orderType="LIMIT", price="318.65", triggerPrice="300")]}]},
            "no trigger price",
        ),
        ({"strategies": [{"name": "s", "legs": [a_leg(lots=2147483647)]}]}, f"at most {MAX_LOTS_PER_LEG} lots"),
        ({"strategies": [{"name": "s", "legs": [a_leg(lots=MOST_LOTS + 1)]}]}, f"{MAX_SLICES} slices"),
        ({"strategies": [{"name": "s", "legs": [a_leg(lots=0)]}]}, "positive"),
    ],
    ids=["max loss", "target", "price", "trigger on MARKET", "trigger on LIMIT", "int32 lots", "slices", "0 lots"],
)
def test_out_of_bounds_baskets_are_refused(
    stack: LocalStack, alice: dict[str, str], user_writes: Recorder, given: dict[str, Any], says: str
) -> None:
    kind, message = refusal(graphql(stack, alice["token"], CREATE, {"i": {**condor_input(), **given}}))

    assert kind == "ValidationError"
    assert says in message
    assert user_writes.calls == []


def test_bounds_admit_what_is_tradable(stack: LocalStack, alice: dict[str, str]) -> None:
    legs = [
        a_leg(lots=MOST_LOTS),
        a_leg(orderType="SL", price="318.65", triggerPrice="318.0000"),
        a_leg(orderType="SL_M", triggerPrice="300.05"),
    ]
    body = graphql(stack, alice["token"], CREATE, {"i": basket_with(*legs, risk={"maxLoss": "1000000000.00"})})

    assert "errors" not in body, body["errors"]


def test_legs_are_counted_before_any_is_read(stack: LocalStack, alice: dict[str, str], user_requests: Recorder) -> None:
    # one strategy of MAX_LEGS + 1 legs, and MAX_LEGS + 1 strategies of a leg each, every leg of them unknown
    unknown = a_leg(tradingsymbol="NOSUCHSYMBOL")
    many_legs = basket_with(*[unknown] * (MAX_LEGS + 1))
    many_strategies = {
        **condor_input(),
        "strategies": [{"name": f"s{i}", "legs": [unknown]} for i in range(MAX_LEGS + 1)],
    }

    for given in (many_legs, many_strategies):
        assert refusal(graphql(stack, alice["token"], CREATE, {"i": given})) == (
            "ValidationError",
            f"a basket holds at most {MAX_LEGS} legs",
        )
    assert user_requests.calls == [], "no instrument was looked up"


def test_an_order_is_at_most_what_the_broker_takes_in_one_request(
    stack: LocalStack, alice: dict[str, str], user_writes: Recorder
) -> None:
    basket = live_condor(alice["sub"])
    user_writes.clear()
    too_many = an_order_input(basket["id"], quantity=(MOST_LOTS + 1) * NIFTY_LOT)
    with_trigger = an_order_input(basket["id"], triggerPrice="1.00")
    odd_price = an_order_input(basket["id"], price=FULLWIDTH)

    for given, says in ((too_many, f"{MAX_SLICES} slices"), (with_trigger, "no trigger price"), (odd_price, "plain")):
        kind, message = refusal(graphql(stack, alice["token"], PLACE, {"i": given}))
        assert (kind, says in message) == ("ValidationError", True), message
    assert user_writes.calls == []

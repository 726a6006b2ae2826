"""Account-level limits and the kill switch over GraphQL/HTTP on the local stack (issue 16, item 3): a daily loss
limit reached by a mark move exits every LIVE basket through the stream handler and the exit loop; the kill switch
does the same at once; each refuses the next placeOrder and executeBasket with TradingHalted until the next
trading day or resetKillSwitch; the daily order cap; and nothing of one user's account reaches another's."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.graphql_client import graphql
from tests.graphql_client import graphql_data as data
from tests.helpers import exchange_orders, wait_until
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

SETTLE = 90  # postbacks and stream batches on a busy 2-core machine

RISK_FIELDS = (
    "broker limits { dailyLossLimit dailyProfitTarget maxOrdersPerDay } tradingDay dayPnl dayRealised "
    "dayUnrealised basketsCounted ordersToday lossRemaining targetRemaining ordersRemaining locked "
    "halt { kind reason by at until } history { kind reason by at halt } version"
)
ACCOUNT_RISK = f"query {{ accountRisk(broker: PAPER) {{ {RISK_FIELDS} }} }}"
SET_LIMITS = f"mutation($i: AccountLimitsInput!) {{ setAccountLimits(input: $i) {{ {RISK_FIELDS} }} }}"
KILL = f"mutation($r: String) {{ killSwitch(broker: PAPER, reason: $r) {{ {RISK_FIELDS} }} }}"
RESET = f"mutation {{ resetKillSwitch(broker: PAPER) {{ {RISK_FIELDS} }} }}"
RISK_STATE = (
    f"query($id: ID!) {{ riskState(basketId: $id) {{ basketId legs {{ legId }} account {{ {RISK_FIELDS} }} }} }}"
)
CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
EXECUTE = "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) { basket { id } } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"
BASKET = (
    "query($id: ID!) { basket(id: $id) { status statusMessage orders { id status quantity filledQuantity "
    "statusMessage } positions { tradingsymbol netQuantity } } }"
)
TERMINAL = {"COMPLETE", "CANCELLED", "REJECTED"}


def new_user(stack: LocalStack) -> dict[str, str]:
    return stack.add_user(f"limits{uuid.uuid4().hex[:8]}")


def leg(symbol: str, side: str, lots: int) -> dict[str, Any]:
    return {"exchange": "NSE", "tradingsymbol": symbol, "side": side, "lots": lots, "product": "NRML"}


def create(stack: LocalStack, token: str, *legs: dict[str, Any]) -> str:
    strategies = [{"name": "s", "legs": list(legs)}]
    return str(data(stack, token, CREATE, {"i": {"name": "limits", "strategies": strategies}})["createBasket"]["id"])


def basket(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, BASKET, {"id": basket_id})["basket"])


def settled(stack: LocalStack, token: str, basket_id: str, status: str) -> dict[str, Any]:
    """The basket once it has `status` with every order finished and filled as far as it went."""

    def done() -> bool:
        b = basket(stack, token, basket_id)
        filled = all(o["filledQuantity"] == o["quantity"] for o in b["orders"] if o["status"] == "COMPLETE")
        return b["status"] == status and all(o["status"] in TERMINAL for o in b["orders"]) and filled

    wait_until(done, timeout=SETTLE)
    return basket(stack, token, basket_id)


def live_basket(stack: LocalStack, user: dict[str, str], *legs: dict[str, Any]) -> str:
    basket_id = create(stack, user["token"], *legs)
    data(stack, user["token"], EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})
    settled(stack, user["token"], basket_id, "LIVE")
    return basket_id


def exchange_net(stack: LocalStack, sub: str) -> dict[str, int]:
    """The user's net positions at the paper exchange, read with the official Kite client."""
    from kiteconnect import KiteConnect

    from brokers.kite.accounts import access_token_name
    from brokers.secrets import SsmSecretStore

    token = SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))
    rows = KiteConnect("paper", access_token=token, root=stack.exchange_url).positions()["net"]
    return {row["tradingsymbol"]: int(row["quantity"]) for row in rows}


def set_price(stack: LocalStack, symbol: str, price: str) -> None:
    stack.set_prices({InstrumentRef("NSE", symbol): Decimal(price)})


def refused(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    return dict(error)


def place(stack: LocalStack, token: str, basket_id: str, **order: Any) -> dict[str, Any]:
    fields = {"basketId": basket_id, "exchange": "NSE", "tradingsymbol": "SBIN", "side": "BUY", "quantity": 1}
    return graphql(stack, token, PLACE, {"i": {**fields, **order, "clientRequestId": str(uuid.uuid4())}})


def execute(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return graphql(stack, token, EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})


def test_the_daily_loss_limit_exits_every_live_basket_and_refuses_new_orders(stack: LocalStack) -> None:
    # Given two LIVE baskets of one user (long 10 INFY at 1600.00; short 5 TCS at 3100.00) and a daily loss
    # limit of 150.00 on the account, that neither basket's loss alone reaches
    user = new_user(stack)
    token = user["token"]
    set_price(stack, "INFY", "1600.00")
    set_price(stack, "TCS", "3100.00")
    long_infy = live_basket(stack, user, leg("INFY", "BUY", 10))
    short_tcs = live_basket(stack, user, leg("TCS", "SELL", 5))
    draft = create(stack, token, leg("SBIN", "BUY", 1))
    limits = data(stack, token, SET_LIMITS, {"i": {"broker": "PAPER", "dailyLossLimit": "150.00"}})
    assert limits["setAccountLimits"]["limits"]["dailyLossLimit"] == "150.00"
    assert limits["setAccountLimits"]["locked"] is False
    held = {InstrumentRef("NSE", "INFY"), InstrumentRef("NSE", "TCS")}
    wait_until(lambda: held <= set(stack.pnl.held_instruments()), timeout=SETTLE)
    # When INFY falls 10.00 (-100.00), the account is within its limit; when TCS rises 10.00 (-50.00) it is at it
    set_price(stack, "INFY", "1590.00")
    wait_until(lambda: data(stack, token, ACCOUNT_RISK)["accountRisk"]["dayPnl"] == "-100.00", timeout=SETTLE)
    assert basket(stack, token, long_infy)["status"] == "LIVE"
    set_price(stack, "TCS", "3110.00")
    # Then both baskets are exited (CLOSED) and flat at the exchange, the lock is the system's until the next day
    for basket_id in (long_infy, short_tcs):
        closed = settled(stack, token, basket_id, "CLOSED")
        assert all(p["netQuantity"] == 0 for p in closed["positions"])
        assert closed["statusMessage"].startswith("daily loss limit 150.00 reached (P&L -150.00)")
    assert exchange_net(stack, user["sub"]) == {"INFY": 0, "TCS": 0}
    risk = data(stack, token, ACCOUNT_RISK)["accountRisk"]
    assert risk["locked"] is True
    assert risk["halt"]["kind"] == "DAILY_LOSS_LIMIT"
    assert risk["halt"]["by"] == "system: daily loss limit"
    assert risk["halt"]["until"].endswith("T18:30:00Z")  # 00:00 IST of the next trading day
    assert [e["kind"] for e in risk["history"]] == ["LIMITS_SET", "LOCKED"]
    assert risk["lossRemaining"] == "0.00"
    # And the next placeOrder and executeBasket are refused with why and until when, sending nothing
    sent = len(exchange_orders(stack, user["sub"]))
    for body in (place(stack, token, long_infy), execute(stack, token, draft)):
        error = refused(body)
        assert error["errorType"] == "TradingHalted"
        assert "daily loss limit 150.00 reached" in error["message"]
        assert risk["halt"]["until"].replace("Z", "+00:00") in error["message"]
    assert len(exchange_orders(stack, user["sub"])) == sent
    assert basket(stack, token, draft)["status"] == "DRAFT"
    # And the lock was written once, however many stream batches saw the P&L past the limit
    assert data(stack, token, ACCOUNT_RISK)["accountRisk"]["version"] == 2


def test_the_kill_switch_cancels_squares_off_and_refuses_until_reset(stack: LocalStack) -> None:
    # Given a LIVE basket long 4 SBIN with a BUY LIMIT resting far below the market
    user = new_user(stack)
    token = user["token"]
    set_price(stack, "SBIN", "800.00")
    live = live_basket(stack, user, leg("SBIN", "BUY", 4))
    resting = place(stack, token, live, orderType="LIMIT", price="700.00")
    assert "errors" not in resting, resting
    resting_id = resting["data"]["placeOrder"]["id"]
    draft = create(stack, token, leg("SBIN", "BUY", 1))
    # When the user engages the kill switch
    killed = data(stack, token, KILL, {"r": "stepping away"})["killSwitch"]
    # Then the account is locked by the user until reset, the resting order is cancelled, the position squared off
    assert killed["locked"] is True
    assert killed["halt"]["kind"] == "KILL_SWITCH"
    assert (killed["halt"]["reason"], killed["halt"]["by"], killed["halt"]["until"]) == (
        "stepping away",
        user["sub"],
        None,
    )
    closed = settled(stack, token, live, "CLOSED")
    assert {o["id"]: o["status"] for o in closed["orders"]}[resting_id] == "CANCELLED"
    assert exchange_net(stack, user["sub"]) == {"SBIN": 0}
    # And the next placeOrder and executeBasket are refused
    for body in (place(stack, token, live), execute(stack, token, draft)):
        error = refused(body)
        assert error["errorType"] == "TradingHalted"
        assert "until resetKillSwitch: stepping away" in error["message"]
    # When the user resets it
    reset = data(stack, token, RESET)["resetKillSwitch"]
    # Then trading resumes: the draft executes and an order goes into it; both events are in the history
    assert reset["locked"] is False
    assert [(e["kind"], e["by"]) for e in reset["history"]] == [("LOCKED", user["sub"]), ("RESET", user["sub"])]
    assert "errors" not in execute(stack, token, draft)
    settled(stack, token, draft, "LIVE")
    placed = place(stack, token, draft)
    assert "errors" not in placed, placed
    # And resetting again is a Conflict: the kill switch is no longer engaged
    assert refused(graphql(stack, token, RESET))["errorType"] == "Conflict"


def test_the_daily_order_cap_refuses_the_order_past_it_and_writes_nothing(stack: LocalStack) -> None:
    # Given an account allowed 3 orders a day and a LIVE basket whose execution sent 2
    user = new_user(stack)
    token = user["token"]
    data(stack, token, SET_LIMITS, {"i": {"broker": "PAPER", "maxOrdersPerDay": 3}})
    live = live_basket(stack, user, leg("SBIN", "BUY", 1), leg("INFY", "BUY", 1))
    # When a third order goes and a fourth is asked
    assert "errors" not in place(stack, token, live)
    over = place(stack, token, live)
    # Then the fourth is refused, typed, naming the cap; it reached neither our book nor the exchange
    error = refused(over)
    assert error["errorType"] == "TradingHalted"
    assert "maximum of 3 orders a day reached" in error["message"]
    assert len(basket(stack, token, live)["orders"]) == 3
    assert len(exchange_orders(stack, user["sub"])) == 3
    risk = data(stack, token, ACCOUNT_RISK)["accountRisk"]
    assert (risk["ordersToday"], risk["ordersRemaining"], risk["locked"]) == (3, 0, False)
    # And the basket's risk state shows the same account, its limit and how close it is
    state = data(stack, token, RISK_STATE, {"id": live})["riskState"]
    assert (state["basketId"], state["legs"]) == (live, [])
    shown = {k: state["account"][k] for k in ("broker", "limits", "ordersToday", "ordersRemaining", "locked")}
    assert shown == {k: risk[k] for k in shown}
    assert shown["limits"]["maxOrdersPerDay"] == 3


def test_bad_limits_are_refused_typed_and_write_nothing(stack: LocalStack) -> None:
    user = new_user(stack)
    for change, message in (
        ({"dailyLossLimit": "-5"}, "dailyLossLimit must be a positive amount"),
        ({"dailyProfitTarget": "1e3"}, "dailyProfitTarget must be a plain decimal"),
        ({"maxOrdersPerDay": 0}, "maxOrdersPerDay must be between 1"),
    ):
        error = refused(graphql(stack, user["token"], SET_LIMITS, {"i": {"broker": "PAPER", **change}}))
        assert error["errorType"] == "ValidationError"
        assert message in error["message"]
    assert data(stack, user["token"], ACCOUNT_RISK)["accountRisk"]["version"] == 0


def test_another_user_can_neither_read_nor_set_nor_trigger_an_accounts_controls(stack: LocalStack) -> None:
    # Given alice with a LIVE basket and limits on her account, and bob
    alice, bob = new_user(stack), new_user(stack)
    set_price(stack, "SBIN", "800.00")
    live = live_basket(stack, alice, leg("SBIN", "BUY", 2))
    data(stack, alice["token"], SET_LIMITS, {"i": {"broker": "PAPER", "dailyLossLimit": "5000.00"}})
    # When bob sets limits, engages his kill switch and reads his account
    data(stack, bob["token"], SET_LIMITS, {"i": {"broker": "PAPER", "maxOrdersPerDay": 1}})
    data(stack, bob["token"], KILL, {"r": "bob's"})
    bobs = data(stack, bob["token"], ACCOUNT_RISK)["accountRisk"]
    # Then bob sees only his own account: none of alice's limits, baskets or orders
    assert bobs["limits"] == {"dailyLossLimit": None, "dailyProfitTarget": None, "maxOrdersPerDay": 1}
    assert (bobs["basketsCounted"], bobs["ordersToday"]) == (0, 0)
    assert all(e["by"] == bob["sub"] for e in bobs["history"])
    # And alice's account and basket are untouched: her limit stands, her basket is LIVE, she may trade
    alices = data(stack, alice["token"], ACCOUNT_RISK)["accountRisk"]
    assert (alices["locked"], alices["limits"]["dailyLossLimit"], alices["limits"]["maxOrdersPerDay"]) == (
        False,
        "5000.00",
        None,
    )
    assert basket(stack, alice["token"], live)["status"] == "LIVE"
    assert "errors" not in place(stack, alice["token"], live)
    # And bob cannot place into alice's basket: it is not found for him (refused before any lock or count)
    assert refused(place(stack, bob["token"], live))["errorType"] == "NotFound"


def test_the_daily_profit_target_exits_and_locks_to_the_next_trading_day(stack: LocalStack) -> None:
    # Given a LIVE basket short 5 RELIANCE at 1300.00 and a daily profit target of 100.00 on the account
    user = new_user(stack)
    token = user["token"]
    set_price(stack, "RELIANCE", "1300.00")
    short = live_basket(stack, user, leg("RELIANCE", "SELL", 5))
    data(stack, token, SET_LIMITS, {"i": {"broker": "PAPER", "dailyProfitTarget": "100.00"}})
    wait_until(lambda: InstrumentRef("NSE", "RELIANCE") in stack.pnl.held_instruments(), timeout=SETTLE)
    # When RELIANCE falls 20.00 (+100.00)
    set_price(stack, "RELIANCE", "1280.00")
    # Then the basket is bought back and closed, and the account is locked by the target until the next day
    closed = settled(stack, token, short, "CLOSED")
    assert closed["statusMessage"].startswith("daily profit target 100.00 reached (P&L 100.00)")
    risk = data(stack, token, ACCOUNT_RISK)["accountRisk"]
    assert (risk["halt"]["kind"], risk["halt"]["by"]) == ("DAILY_PROFIT_TARGET", "system: daily profit target")
    assert risk["targetRemaining"] == "0.00"
    assert (
        refused(execute(stack, token, create(stack, token, leg("RELIANCE", "SELL", 1))))["errorType"] == "TradingHalted"
    )

"""Kite end to end on the local stack: postbacks (duplicated, reordered, forged) through the local route and
the postback Lambda, reconciliation of missed postbacks and lost replies, a 20-leg basket under Kite's rate
limit, and an expired session — all through GraphQL over HTTP against the paper exchange."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests

from brokers.kite.accounts import access_token_name
from brokers.kite.broker import KiteBroker
from brokers.kite.postback import postback_checksum
from brokers.secrets import SsmSecretStore
from local.lambda_context import LambdaContext
from resolvers import postback as postback_lambda
from resolvers import reconcile as reconcile_lambda
from tests.graphql_client import graphql as gql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, exchange_orders, wait_until
from trading.ids import OwnerId

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack
    from tests.stack_fixtures import WriteLog

pytestmark = pytest.mark.e2e

ORDER_FIELDS = "id status statusMessage quantity filledQuantity averagePrice brokerOrderId version"
BASKET = f"query($id: ID!) {{ basket(id: $id) {{ status statusMessage orders {{ {ORDER_FIELDS} }} positions {{ tradingsymbol netQuantity buyValue }} }} }}"  # noqa: E501
EXECUTE = (
    "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) "
    f"{{ basket {{ status statusMessage }} orders {{ {ORDER_FIELDS} }} }} }}"
)


def leg(symbol: str, side: str = "BUY", lots: int = 1, exchange: str = "NFO", **extra: Any) -> dict[str, Any]:
    return {"exchange": exchange, "tradingsymbol": symbol, "side": side, "lots": lots, **extra}


def create(stack: LocalStack, token: str, legs: list[dict[str, Any]], name: str = "broker test") -> str:
    strategies = [{"name": f"s{i}", "legs": legs[i : i + 10]} for i in range(0, len(legs), 10)]
    created = data(
        stack,
        token,
        "mutation($input: CreateBasketInput!) { createBasket(input: $input) { id } }",
        {"input": {"name": name, "strategies": strategies}},
    )
    return str(created["createBasket"]["id"])


def execute(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    reply = data(stack, token, EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})
    return dict(reply["executeBasket"])


def basket(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, BASKET, {"id": basket_id})["basket"])


@pytest.fixture
def held_postbacks(stack: LocalStack) -> Iterator[list[dict[str, Any]]]:
    """The exchange keeps its postbacks (a receiver that is down); the test delivers them by hand."""
    held: list[dict[str, Any]] = []
    stack.exchange.flush_postbacks(10)
    stack.exchange.hold_postbacks()
    try:
        yield held
    finally:
        held.extend(stack.exchange.resume_postbacks())


@pytest.fixture
def thin_market(stack: LocalStack) -> Iterator[None]:
    """25 units per price level: a 65-lot market order fills 25 + 25 + 15, a tick apart."""
    stack.exchange.liquidity = 25
    try:
        yield
    finally:
        stack.exchange.liquidity = None


def release(stack: LocalStack, held: list[dict[str, Any]]) -> list[dict[str, Any]]:
    held.extend(stack.exchange.resume_postbacks())
    stack.exchange.hold_postbacks()
    return list(held)


def by_route(stack: LocalStack, payload: dict[str, Any] | bytes) -> requests.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return requests.post(f"{stack.url}/postback/kite", data=body, timeout=30)


def by_lambda(payload: dict[str, Any] | bytes) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    event = {  # a Lambda function URL event, body base64-encoded as function URLs send binary-safe bodies
        "version": "2.0",
        "rawPath": "/",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    return dict(postback_lambda.handler(event, LambdaContext("basketgraph-postbacks")))


def forgeries(genuine: dict[str, Any]) -> list[bytes]:
    """A body signed with a guessed secret, one with no checksum, one for another order, and no JSON at all."""
    tampered = {**genuine, "filled_quantity": genuine["quantity"] * 2, "status": "CANCELLED"}
    resigned = {**tampered, "checksum": postback_checksum(genuine["order_id"], genuine["order_timestamp"], "guess")}
    unsigned = {k: v for k, v in tampered.items() if k != "checksum"}
    moved = {**tampered, "order_id": str(int(genuine["order_id"]) + 1)}  # the checksum binds the order id
    return [json.dumps(p).encode() for p in (resigned, unsigned, moved)] + [b"order_id=1&status=COMPLETE"]


def a_thin_fill_held(stack: LocalStack, user: dict[str, str], held: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """Execute one 65-lot BUY of the 26000 call in a thin market with postbacks held; returns them."""
    basket_id = create(stack, user["token"], [leg(CE_26000)])
    execution = execute(stack, user["token"], basket_id)
    [order] = execution["orders"]
    assert (order["status"], order["filledQuantity"]) == ("PENDING", 0)  # nothing heard back yet
    postbacks = release(stack, held)
    mine = [p for p in postbacks if p["order_id"] == order["brokerOrderId"]]
    assert [p["status"] for p in mine] == [
        "PUT ORDER REQ RECEIVED",
        "VALIDATION PENDING",
        "OPEN PENDING",
        "OPEN",
        "UPDATE",
        "UPDATE",
        "COMPLETE",
    ]
    assert [p["filled_quantity"] for p in mine][-3:] == [25, 50, 65]
    return basket_id, mine


def assert_filled_once(stack: LocalStack, user: dict[str, str], basket_id: str) -> dict[str, Any]:
    view = basket(stack, user["token"], basket_id)
    [order] = view["orders"]
    [position] = view["positions"]
    trades = [t for t in exchange_trades(stack, user["sub"]) if t["order_id"] == order["brokerOrderId"]]
    assert [t["quantity"] for t in trades] == [25, 25, 15]
    exact = sum(Decimal(str(t["average_price"])) * t["quantity"] for t in trades)
    assert (order["status"], order["filledQuantity"]) == ("COMPLETE", 65)
    assert Decimal(order["averagePrice"]) == (exact / 65).quantize(Decimal("0.0001"))  # the API's rounding
    assert (position["netQuantity"], Decimal(position["buyValue"])) == (65, exact)
    return dict(order)


def exchange_trades(stack: LocalStack, sub: str) -> list[dict[str, Any]]:
    from kiteconnect import KiteConnect

    token = SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))
    return list(KiteConnect("paper", access_token=token, root=stack.exchange_url).trades())


class TestPostbacks:
    def test_duplicated_reordered_and_forged_postbacks_through_the_local_route(
        self, stack: LocalStack, thin_market: None, held_postbacks: list[dict[str, Any]]
    ) -> None:
        user = stack.add_user("postbacks_route")
        basket_id, postbacks = a_thin_fill_held(stack, user, held_postbacks)

        # When they arrive last first, each twice
        replies = [by_route(stack, p) for p in reversed(postbacks) for _ in range(2)]

        # Then the order is complete once, with exactly the exchange's three trades in order and position
        assert {r.status_code for r in replies} == {200}
        before = assert_filled_once(stack, user, basket_id)

        # And forgeries are refused with 401 and change nothing
        refused = [by_route(stack, body) for body in forgeries(postbacks[-1])]
        assert [r.status_code for r in refused] == [401] * 4
        assert all("checksum" in r.json()["error"] for r in refused)
        assert assert_filled_once(stack, user, basket_id) == before

    def test_duplicated_reordered_and_forged_postbacks_through_the_lambda(
        self, stack: LocalStack, thin_market: None, held_postbacks: list[dict[str, Any]], writes: WriteLog
    ) -> None:
        user = stack.add_user("postbacks_lambda")
        basket_id, postbacks = a_thin_fill_held(stack, user, held_postbacks)
        # The first UPDATE and COMPLETE swap places; everything arrives twice
        shuffled = [*postbacks[:4], postbacks[6], postbacks[5], postbacks[4]]

        replies = [by_lambda(p) for p in shuffled for _ in range(2)]

        assert {r["statusCode"] for r in replies} == {200}
        before = assert_filled_once(stack, user, basket_id)
        writes.clear()
        refused = [by_lambda(body) for body in forgeries(postbacks[-1])]
        assert [r["statusCode"] for r in refused] == [401] * 4
        assert writes.made() == []
        assert assert_filled_once(stack, user, basket_id) == before


class TestReplayedChecksum:
    def test_an_edited_body_under_a_genuine_checksum_cannot_finish_an_order(
        self, stack: LocalStack, held_postbacks: list[dict[str, Any]]
    ) -> None:
        # Given a resting order and its genuine OPEN postback (Kite signs only order_id + order_timestamp)
        user = stack.add_user("postbacks_replayed")
        basket_id = create(stack, user["token"], [leg(CE_26000, orderType="LIMIT", price="1.00")])
        [order] = execute(stack, user["token"], basket_id)["orders"]
        [genuine] = [p for p in release(stack, held_postbacks) if p["order_id"] == order["brokerOrderId"]][-1:]
        assert genuine["status"] == "OPEN"
        edited = {**genuine, "status": "COMPLETE", "filled_quantity": 65, "average_price": 1, "pending_quantity": 0}

        # When the edited body arrives with the genuine checksum
        reply = by_lambda(edited)

        # Then the final status was taken from the exchange, not the body: the order is OPEN, nothing filled
        assert reply["statusCode"] == 200
        view = basket(stack, user["token"], basket_id)
        assert [(o["status"], o["filledQuantity"]) for o in view["orders"]] == [("OPEN", 0)]
        assert view["positions"] == []


def reconcile(stack: LocalStack, sub: str) -> dict[str, Any]:
    return dict(reconcile_lambda.handler({"ownerId": sub}, LambdaContext("basketgraph-reconcile")))


class TestReconciliation:
    def test_missed_postbacks_are_repaired_from_the_order_book_and_trades(
        self, stack: LocalStack, thin_market: None, held_postbacks: list[dict[str, Any]]
    ) -> None:
        # Given an order whose every postback was lost
        user = stack.add_user("reconcile_missed")
        basket_id, _ = a_thin_fill_held(stack, user, held_postbacks)

        # When the reconciliation Lambda runs for the user, twice
        first, second = reconcile(stack, user["sub"]), reconcile(stack, user["sub"])

        # Then the order, fills and position match the exchange; the second pass finds nothing to do
        assert (first["checked"], first["updated"], first["fills"]) == (1, 1, 3)
        assert (second["checked"], second["updated"], second["fills"]) == (0, 0, 0)
        assert_filled_once(stack, user, basket_id)

    def test_the_local_stack_runs_it_on_request_for_every_user(
        self, stack: LocalStack, held_postbacks: list[dict[str, Any]]
    ) -> None:
        user = stack.add_user("reconcile_route")
        basket_id = create(stack, user["token"], [leg(CE_26000)])
        execute(stack, user["token"], basket_id)

        reply = requests.post(f"{stack.url}/local/reconcile", timeout=60)

        assert reply.status_code == 200
        assert reply.json()["owners"] >= 2 and reply.json()["updated"] >= 1
        [order] = basket(stack, user["token"], basket_id)["orders"]
        assert (order["status"], order["filledQuantity"]) == ("COMPLETE", 65)


def session_of(stack: LocalStack, sub: str) -> KiteBroker:
    broker = stack.composition.ports.brokers.for_owner(OwnerId(sub))
    inner: KiteBroker = getattr(broker, "inner", broker)
    return inner


class TestPlacementTimeouts:
    def test_a_reply_lost_to_a_timeout_still_means_exactly_one_order(self, stack: LocalStack) -> None:
        # Given an exchange that answers placements after the client's 0.5 s timeout
        user = stack.add_user("timeout_found")
        session_of(stack, user["sub"]).client.timeout = 0.5
        basket_id = create(stack, user["token"], [leg(CE_26000)])
        stack.exchange.reply_delay = 1.5
        try:
            # When the basket is executed
            [order] = execute(stack, user["token"], basket_id)["orders"]
        finally:
            stack.exchange.reply_delay = 0
        # Then the order was found by its tag: one order at the exchange, known to us, and it completes
        tagged = [o for o in exchange_orders(stack, user["sub"]) if o["tag"] == order["id"]]
        assert [o["order_id"] for o in tagged] == [order["brokerOrderId"]]
        wait_until(lambda: basket(stack, user["token"], basket_id)["orders"][0]["status"] == "COMPLETE")

    def test_an_unknown_outcome_is_adopted_by_reconciliation_never_placed_again(
        self, stack: LocalStack, monkeypatch: pytest.MonkeyPatch, held_postbacks: list[dict[str, Any]]
    ) -> None:
        # Given a placement whose reply is lost, whose lookup by tag fails too, and whose postbacks are lost
        user = stack.add_user("timeout_unknown")
        session_of(stack, user["sub"]).client.timeout = 0.5
        monkeypatch.setattr(KiteBroker, "_find_by_tag", lambda self, tag: None)
        basket_id = create(stack, user["token"], [leg(CE_26000)])
        stack.exchange.reply_delay = 1.5
        try:
            [order] = execute(stack, user["token"], basket_id)["orders"]
        finally:
            stack.exchange.reply_delay = 0
        assert (order["status"], order["brokerOrderId"]) == ("PENDING", None)
        assert len([o for o in exchange_orders(stack, user["sub"]) if o["tag"] == order["id"]]) == 1

        # When reconciliation runs
        result = reconcile(stack, user["sub"])

        # Then it adopted the exchange's order by tag and applied its fill; still one order there
        [tagged] = [o for o in exchange_orders(stack, user["sub"]) if o["tag"] == order["id"]]
        [ours] = basket(stack, user["token"], basket_id)["orders"]
        assert (result["adopted"], result["fills"]) == (1, 1)
        assert (ours["brokerOrderId"], ours["status"], ours["filledQuantity"]) == (tagged["order_id"], "COMPLETE", 65)
        assert len(exchange_orders(stack, user["sub"])) == 1


class TestRateLimit:
    def test_a_20_leg_basket_executes_without_a_single_429(self, stack: LocalStack) -> None:
        # Given twenty legs over equities and options (Kite allows 10 order requests a second)
        user = stack.add_user("twenty_legs")
        equities = ["RELIANCE", "INFY", "SBIN", "HDFCBANK", "TCS"]
        legs = [leg(symbol, exchange="NSE", lots=1 + i) for i, symbol in enumerate(equities)] * 3
        legs += [leg(CE_26000, lots=1 + i) for i in range(5)]
        basket_id = create(stack, user["token"], legs, name="twenty legs")
        refused_before = stack.exchange.too_many_requests

        # When it is executed through GraphQL
        execution = execute(stack, user["token"], basket_id)

        # Then every leg was placed, none refused with 429, and the basket is live
        assert execution["basket"]["status"] == "LIVE", execution["basket"]["statusMessage"]
        assert len(execution["orders"]) == 20
        assert all(o["brokerOrderId"] for o in execution["orders"])
        assert stack.exchange.too_many_requests == refused_before
        assert len(exchange_orders(stack, user["sub"])) == 20
        # And once the exchange's postbacks are in, every order is complete
        assert stack.exchange.flush_postbacks(120)
        assert {o["status"] for o in basket(stack, user["token"], basket_id)["orders"]} == {"COMPLETE"}


class TestExpiredSession:
    def test_an_expired_token_asks_the_user_to_reconnect(self, stack: LocalStack) -> None:
        # Given a live basket with a resting order
        user = stack.add_user("expired_token")
        assert stack.exchange.flush_postbacks(120)  # earlier tests' postbacks are not this one's
        resting = create(stack, user["token"], [leg(CE_26000, orderType="LIMIT", price="1.00")])
        [order] = execute(stack, user["token"], resting)["orders"]
        wait_until(lambda: basket(stack, user["token"], resting)["orders"][0]["status"] == "OPEN")
        # When the access token reaches its morning expiry
        token = SsmSecretStore(stack.ssm).get(access_token_name(user["sub"], "paper"))
        assert token
        stack.exchange.expire_session(token)

        # Then cancelling says the broker is not connected and to reconnect, and nothing changed
        body = gql(
            stack, user["token"], "mutation($id: ID!) { cancelOrder(id: $id) { id status } }", {"id": order["id"]}
        )
        [error] = body["errors"]
        assert error["errorType"] == "BrokerNotConnected"
        assert "reconnect" in error["message"]
        assert basket(stack, user["token"], resting)["orders"][0]["status"] == "OPEN"
        # And a new basket's orders are refused with the same advice
        fresh = create(stack, user["token"], [leg(CE_26000)])
        execution = execute(stack, user["token"], fresh)
        assert execution["basket"]["status"] == "FAILED"
        assert "reconnect" in (execution["basket"]["statusMessage"] or "")
        assert execution["orders"][0]["status"] == "REJECTED"

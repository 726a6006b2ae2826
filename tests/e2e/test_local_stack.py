"""The demo a new user runs, end to end over real HTTP with a real Cognito JWT against the running stack."""

from __future__ import annotations

import re
import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.graphql_client import graphql, graphql_data
from tests.helpers import CE_26000, CE_26500, PE_25500, PE_26000, condor_input, wait_until

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

BASKET_FIELDS = """
  id name status version
  strategies { id name legs { id tradingsymbol side lots } }
  orders { id tradingsymbol side quantity filledQuantity averagePrice status brokerOrderId }
  positions { tradingsymbol netQuantity buyValue sellValue multiplier }
"""


def test_demo_condor_executes_fills_and_prices_by_kites_formula(stack: LocalStack, alice: dict[str, str]) -> None:
    token = alice["token"]
    # Given the paper market at its opening prices (other tests move it) and a four-leg NIFTY structure
    opening = {CE_26000: "318.65", PE_26000: "281.20", CE_26500: "121.55", PE_25500: "108.40"}
    reply = requests.post(f"{stack.url}/local/prices", json={f"NFO:{k}": v for k, v in opening.items()}, timeout=10)
    assert reply.status_code == 200
    created = graphql_data(
        stack,
        token,
        f"mutation($input: CreateBasketInput!) {{ createBasket(input: $input) {{ {BASKET_FIELDS} }} }}",
        {"input": condor_input()},
    )["createBasket"]
    assert [len(s["legs"]) for s in created["strategies"]] == [2, 2]

    # When it is executed
    execution = graphql_data(
        stack,
        token,
        "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) "
        "{ basket { id status } orders { id side status } } }",
        {"id": created["id"], "rid": str(uuid.uuid4())},
    )["executeBasket"]
    assert execution["basket"]["status"] == "LIVE"
    assert [o["side"] for o in execution["orders"]] == ["BUY", "BUY", "SELL", "SELL"]

    # Then every order completes and four positions appear
    query = f"query($id: ID!) {{ basket(id: $id) {{ {BASKET_FIELDS} }} }}"

    def settled() -> bool:
        basket = graphql_data(stack, token, query, {"id": created["id"]})["basket"]
        return len(basket["positions"]) == 4 and all(
            o["status"] == "COMPLETE" and o["filledQuantity"] == 65 for o in basket["orders"]
        )

    wait_until(settled)
    basket = graphql_data(stack, token, query, {"id": created["id"]})["basket"]
    fills = {o["tradingsymbol"]: Decimal(o["averagePrice"]) for o in basket["orders"]}
    # MARKET orders fill at the paper market's price
    assert fills == {symbol: Decimal(price) for symbol, price in opening.items()}

    # And when the market moves, P&L = (sell_value - buy_value) + net_qty * last_price * multiplier
    moves = {CE_26000: "300.10", PE_26000: "290.00", CE_26500: "115.25", PE_25500: "112.95"}
    reply = requests.post(f"{stack.url}/local/prices", json={f"NFO:{k}": v for k, v in moves.items()}, timeout=10)
    assert reply.status_code == 200
    pnl = graphql_data(
        stack,
        token,
        "query($id: ID!) { pnl(basketId: $id) { pnl realised unrealised "
        "positions { lastPrice closePrice pnl realised unrealised m2m "
        "position { tradingsymbol netQuantity averagePrice value overnightQuantity "
        "dayBuyQuantity daySellQuantity } } } }",
        {"id": created["id"]},
    )["pnl"]
    sell_value = 65 * Decimal("318.65") + 65 * Decimal("281.20")
    buy_value = 65 * Decimal("121.55") + 65 * Decimal("108.40")
    marked = -65 * Decimal("300.10") - 65 * Decimal("290.00") + 65 * Decimal("115.25") + 65 * Decimal("112.95")
    by_hand = (sell_value - buy_value) + marked
    assert by_hand == Decimal("520.00")
    assert Decimal(pnl["pnl"]) == by_hand
    assert Decimal(pnl["realised"]) == 0
    assert {p["position"]["tradingsymbol"]: p["lastPrice"] for p in pnl["positions"]} == moves
    # And each row carries Kite's fields: the open quantity's average, value, day/overnight split, m2m
    for row in pnl["positions"]:
        position = row["position"]
        assert Decimal(position["averagePrice"]) == Decimal(opening[position["tradingsymbol"]])
        assert Decimal(row["realised"]) + Decimal(row["unrealised"]) == Decimal(row["pnl"])
        assert (row["realised"], row["closePrice"]) == ("0.00", None)
        net = position["netQuantity"]
        if position["overnightQuantity"] == 0:  # filled today (IST): the day's quantities are the position's
            assert position["dayBuyQuantity"] - position["daySellQuantity"] == net
            assert row["m2m"] == row["pnl"]
        else:  # carried in with no previous close known
            assert row["m2m"] is None


def test_errors_come_back_typed_as_appsync_prints_them(stack: LocalStack, alice: dict[str, str]) -> None:
    body = graphql(
        stack,
        alice["token"],
        'mutation { createBasket(input: {name: "x", strategies: [{name: "s", legs: [{exchange: "NFO", '
        f'tradingsymbol: "{CE_26000}", side: BUY, lots: 1, orderType: LIMIT, price: "10.01"}}]}}]}}) {{ id }} }}',
    )
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["errorType"] == "ValidationError"
    assert "tick size 0.05" in error["message"]
    assert error["path"] == ["createBasket"]


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "mutation($b: BrokerName!) { disconnectBroker(broker: $b) { broker } }",
            {"b": "NOT_A_BROKER"},
            "Value 'NOT_A_BROKER' does not exist in 'BrokerName' enum",
        ),
        (
            "query($n: Int) { baskets(limit: $n) { items { id } } }",
            {"n": "ten"},
            "Int cannot represent non-integer value: 'ten'",
        ),
    ],
)
def test_a_variable_the_schema_refuses_is_a_validation_error(
    stack: LocalStack, alice: dict[str, str], query: str, variables: dict[str, Any], message: str
) -> None:
    body = graphql(stack, alice["token"], query, variables)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["errorType"] == "ValidationError"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing"),
        ("not-a-jwt", "malformed"),
        ("Bearer abc.def.ghi", "malformed"),
    ],
)
def test_requests_without_a_valid_token_get_401(stack: LocalStack, header: str | None, message: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    reply = requests.post(f"{stack.url}/graphql", json={"query": "{ me { id } }"}, headers=headers, timeout=10)
    assert reply.status_code == 401
    (error,) = reply.json()["errors"]
    assert error["errorType"] == "UnauthorizedException"
    assert message in error["message"].lower()


def test_another_users_token_reads_nothing_of_alices(
    stack: LocalStack, alice: dict[str, str], bob: dict[str, str]
) -> None:
    created = graphql_data(stack, alice["token"], 'mutation { createBasket(input: {name: "mine"}) { id } }')[
        "createBasket"
    ]
    body = graphql(stack, bob["token"], "query($id: ID!) { basket(id: $id) { id name } }", {"id": created["id"]})
    assert body["data"] is None
    assert body["errors"][0]["errorType"] == "NotFound"
    me = graphql_data(stack, bob["token"], "{ me { id username } }")["me"]
    assert me == {"id": bob["sub"], "username": "bob"}


def test_graphiql_is_served_offline_with_the_demo_token(stack: LocalStack) -> None:
    page = requests.get(f"{stack.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    # every script and stylesheet comes from the stack itself (the page's embedded token is random base64, so
    # words such as "cdn" are looked for in the asset addresses only)
    assets = re.findall(r'<(?:script|link)[^>]*?(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith(("/", "data:")) for a in assets), assets
    assert not any(host in a for a in assets for host in ("cdn", "unpkg", "jsdelivr"))


def test_expired_and_foreign_signed_tokens_get_401_and_write_nothing(stack: LocalStack, alice: dict[str, str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from local.cognito import SIGNING_KEY_FILE
    from tests.integration.test_local_auth import forge

    now = int(time.time())
    pool_key = serialization.load_pem_private_key((stack.state_dir / SIGNING_KEY_FILE).read_bytes(), None)
    expired = forge(alice["token"], key=pool_key, iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    foreign = forge(alice["token"], key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    create = {"query": 'mutation { createBasket(input: {name: "should not exist"}) { id } }'}
    for token, message in ((expired, "expired"), (foreign, "signature")):
        reply = requests.post(f"{stack.url}/graphql", json=create, headers={"Authorization": token}, timeout=10)
        assert reply.status_code == 401
        assert message in reply.json()["errors"][0]["message"].lower()
    names = [
        b["name"]
        for b in graphql_data(stack, alice["token"], "{ baskets(limit: 100) { items { name } } }")["baskets"]["items"]
    ]
    assert "should not exist" not in names


def test_dead_letters_can_be_listed_and_replayed(stack: LocalStack) -> None:
    record = {"eventID": "x", "eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "MARK#NSE:NONE"}}}}
    stack.dead_letters.add(record, "RuntimeError: publisher down", attempts=4)
    listed = requests.get(f"{stack.url}/local/dead-letters", timeout=10).json()
    assert [e["record"]["eventID"] for e in listed] == ["x"]
    replayed = requests.post(f"{stack.url}/local/dead-letters/replay", timeout=30).json()
    assert replayed == {"replayed": 1, "stillFailing": 0}
    assert requests.get(f"{stack.url}/local/dead-letters", timeout=10).json() == []

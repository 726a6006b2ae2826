"""Broker accounts end to end: GraphQL over HTTP with real Cognito JWTs, the paper exchange's session API over
HTTP, secrets in the stack's SSM, account items in the embedded DynamoDB."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from brokers.kite.accounts import access_token_name
from brokers.secrets import SsmSecretStore
from store.accounts import account_key
from tests.graphql_client import graphql as gql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26500, wait_until
from trading.clock import IST
from trading.model.account import BrokerName

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ACCOUNT = "broker status statusReason brokerUserId tokenExpiresAt connectedAt updatedAt"
ACCOUNTS = f"{{ brokerAccounts {{ {ACCOUNT} }} }}"
CONNECT = f"""mutation($b: BrokerName!, $k: String, $s: String) {{
  connectBroker(broker: $b, apiKey: $k, apiSecret: $s) {{ loginUrl account {{ {ACCOUNT} }} }} }}"""
COMPLETE = f"""mutation($b: BrokerName!, $t: String!) {{
  completeBrokerLogin(broker: $b, requestToken: $t) {{ {ACCOUNT} }} }}"""
DISCONNECT = f"mutation($b: BrokerName!) {{ disconnectBroker(broker: $b) {{ {ACCOUNT} }} }}"
EXECUTE = "mutation($b: ID!, $c: String!) { executeBasket(basketId: $b, clientRequestId: $c) { orders { id } } }"


def paper_token(stack: LocalStack, sub: str) -> str | None:
    return SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))


def account_item(stack: LocalStack, sub: str) -> dict[str, Any]:
    reply = stack.dynamodb.get_item(TableName="Trading", Key=account_key(sub, BrokerName.PAPER), ConsistentRead=True)
    return dict(reply.get("Item") or {})


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    [error] = body["errors"]
    return dict(error)


def live_basket_with_resting_order(stack: LocalStack, token: str) -> tuple[str, str]:
    """A basket of one leg, a BUY LIMIT far below the market, executed: its order rests OPEN at the exchange."""
    leg = {
        "exchange": "NFO",
        "tradingsymbol": CE_26500,
        "side": "BUY",
        "lots": 1,
        "orderType": "LIMIT",
        "price": "1.00",
    }
    basket = {"name": "resting", "strategies": [{"name": "one leg", "legs": [leg]}]}
    create = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
    basket_id = data(stack, token, create, {"i": basket})["createBasket"]["id"]
    execution = data(stack, token, EXECUTE, {"b": basket_id, "c": str(uuid.uuid4())})["executeBasket"]
    [order] = execution["orders"]
    query = "query($id: ID!) { order(id: $id) { status } }"
    wait_until(lambda: data(stack, token, query, {"id": order["id"]})["order"]["status"] == "OPEN")
    return basket_id, order["id"]


class TestAccounts:
    def test_a_new_user_has_a_connected_paper_account_and_no_secret_leaves_the_store(self, stack: LocalStack) -> None:
        # Given a user the stack connected to the paper exchange
        user = stack.add_user("accounts_new")

        # When they list their broker accounts
        body = gql(stack, user["token"], ACCOUNTS)

        # Then PAPER is connected as their own paper user, expiring at the next 06:00 IST like Kite
        [account] = body["data"]["brokerAccounts"]
        assert (account["broker"], account["status"], account["brokerUserId"]) == ("PAPER", "CONNECTED", user["sub"])
        expiry = datetime.fromisoformat(account["tokenExpiresAt"].replace("Z", "+00:00")).astimezone(IST)
        assert (expiry.hour, expiry.minute) == (6, 0)
        assert timedelta(0) < expiry - datetime.now(IST) <= timedelta(days=1)
        # and the token is a SecureString in SSM, in neither the response nor the account item
        token = paper_token(stack, user["sub"])
        assert token
        name = SsmSecretStore(stack.ssm).name(access_token_name(user["sub"], "paper"))
        assert name == f"/basketgraph/local/brokers/{user['sub']}/paper/access_token"
        assert stack.ssm.get_parameter(Name=name)["Parameter"]["Type"] == "SecureString"
        assert token not in json.dumps(body)
        item = account_item(stack, user["sub"])
        assert item["status"] == {"S": "CONNECTED"}
        assert token not in json.dumps(item)
        assert stack.api_secret not in json.dumps(item)

    def test_connect_then_complete_opens_a_new_session_through_the_paper_exchange(self, stack: LocalStack) -> None:
        # Given
        user = stack.add_user("accounts_relogin")
        before = paper_token(stack, user["sub"])

        # When the user starts a login
        login = data(stack, user["token"], CONNECT, {"b": "PAPER"})["connectBroker"]

        # Then the login URL is the paper exchange's own, Kite-style
        assert login["loginUrl"] == f"{stack.exchange_url}/connect/login?v=3&api_key=paper"
        assert login["account"]["broker"] == "PAPER"

        # When they complete it with the request token the login hands back
        account = data(stack, user["token"], COMPLETE, {"b": "PAPER", "t": f"paper-{user['sub']}"})
        account = account["completeBrokerLogin"]

        # Then a fresh session is stored and works
        assert account["status"] == "CONNECTED"
        after = paper_token(stack, user["sub"])
        assert after
        assert after != before
        live_basket_with_resting_order(stack, user["token"])

    def test_another_users_paper_login_is_refused_and_nothing_changes(self, stack: LocalStack) -> None:
        # Given two users
        owner, intruder = stack.add_user("accounts_owner"), stack.add_user("accounts_intruder")
        owner_token, intruder_token = paper_token(stack, owner["sub"]), paper_token(stack, intruder["sub"])
        intruder_item = account_item(stack, intruder["sub"])

        # When the intruder tries to open the owner's paper account
        body = gql(stack, intruder["token"], COMPLETE, {"b": "PAPER", "t": f"paper-{owner['sub']}"})

        # Then it is refused, and neither user's session or account changed
        error = error_of(body)
        assert error["errorType"] == "ValidationError"
        assert "another user's is refused" in error["message"]
        assert owner["sub"] not in error["message"]
        assert paper_token(stack, owner["sub"]) == owner_token
        assert paper_token(stack, intruder["sub"]) == intruder_token
        assert account_item(stack, intruder["sub"]) == intruder_item
        # and the accounts each user sees are their own only
        [mine] = data(stack, owner["token"], ACCOUNTS)["brokerAccounts"]
        assert mine["brokerUserId"] == owner["sub"]

    @pytest.mark.parametrize(
        ("variables", "error_type", "fragment"),  # an unknown BrokerName is refused by GraphQL itself
        [
            ({"b": "KITE"}, "ValidationError", "cannot be connected on this deployment; choose one of PAPER"),
            ({"b": "PAPER", "k": "my-app"}, "ValidationError", "give both apiKey and apiSecret"),
            ({"b": "PAPER", "k": "my-app", "s": " "}, "ValidationError", "apiSecret must be 1-256 printable"),
        ],
    )
    def test_bad_connect_requests_are_refused_with_a_typed_error_and_write_nothing(
        self, stack: LocalStack, variables: dict[str, Any], error_type: str, fragment: str
    ) -> None:
        # Given
        user = stack.add_user("accounts_bad_input")
        item, token = account_item(stack, user["sub"]), paper_token(stack, user["sub"])

        # When
        body = gql(stack, user["token"], CONNECT, variables)

        # Then
        error = body["errors"][0]
        assert error["errorType"] == error_type
        assert fragment in error["message"]
        assert account_item(stack, user["sub"]) == item
        assert paper_token(stack, user["sub"]) == token
        assert SsmSecretStore(stack.ssm).get(f"/{user['sub']}/paper/api_secret") is None

    def test_an_expired_token_marks_the_account_disconnected_until_the_user_reconnects(self, stack: LocalStack) -> None:
        # Given a live basket with a resting order at the paper exchange
        user = stack.add_user("accounts_expiry")
        _, order_id = live_basket_with_resting_order(stack, user["token"])
        token = paper_token(stack, user["sub"])
        assert token

        # When the exchange stops honouring the access token (Kite's daily expiry)
        assert stack.exchange.invalidate_session(token)
        cancel = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"
        body = gql(stack, user["token"], cancel, {"id": order_id})

        # Then the call fails telling the user to reconnect, and the account says why it is disconnected
        error = error_of(body)
        assert error["errorType"] == "BrokerNotConnected"
        assert "reconnect" in error["message"]
        assert token not in error["message"]
        [account] = data(stack, user["token"], ACCOUNTS)["brokerAccounts"]
        assert account["status"] == "DISCONNECTED"
        assert "expired or invalid" in account["statusReason"]
        assert account_item(stack, user["sub"])["status"] == {"S": "DISCONNECTED"}
        order = "query($id: ID!) { order(id: $id) { status } }"
        assert data(stack, user["token"], order, {"id": order_id})["order"]["status"] == "OPEN"

        # When the user logs in again
        data(stack, user["token"], COMPLETE, {"b": "PAPER", "t": f"paper-{user['sub']}"})

        # Then the account is connected again and the same order can be cancelled
        [account] = data(stack, user["token"], ACCOUNTS)["brokerAccounts"]
        assert (account["status"], account["statusReason"]) == ("CONNECTED", None)
        assert data(stack, user["token"], cancel, {"id": order_id})["cancelOrder"]["status"] == "CANCELLED"

    def test_disconnecting_drops_the_session_for_that_user_only(self, stack: LocalStack) -> None:
        # Given two connected users
        leaving, staying = stack.add_user("accounts_leaving"), stack.add_user("accounts_staying")

        # When one disconnects
        account = data(stack, leaving["token"], DISCONNECT, {"b": "PAPER"})["disconnectBroker"]

        # Then their session is gone and trading asks them to connect; the other user is untouched
        assert (account["status"], account["statusReason"]) == ("DISCONNECTED", "disconnected by you")
        assert paper_token(stack, leaving["sub"]) is None
        leg = {"exchange": "NFO", "tradingsymbol": CE_26500, "side": "BUY", "lots": 1}
        create = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"
        draft = data(
            stack, leaving["token"], create, {"i": {"name": "x", "strategies": [{"name": "s", "legs": [leg]}]}}
        )
        body = gql(stack, leaving["token"], EXECUTE, {"b": draft["createBasket"]["id"], "c": str(uuid.uuid4())})
        assert error_of(body)["errorType"] == "BrokerNotConnected"
        [other] = data(stack, staying["token"], ACCOUNTS)["brokerAccounts"]
        assert other["status"] == "CONNECTED"
        assert paper_token(stack, staying["sub"])
        # and a broker never connected cannot be disconnected
        body = gql(stack, leaving["token"], DISCONNECT, {"b": "ANGEL"})
        assert error_of(body)["errorType"] == "BrokerNotConnected"

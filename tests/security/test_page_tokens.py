"""Page tokens reveal nothing and open only for the caller and query they were issued for; another user's
basket answers as a basket that does not exist."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

from tests.graphql_client import graphql
from tests.helpers import live_condor

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ORDERS = (
    "query($b: ID, $s: OrderStatus, $n: String) "
    "{ orders(basketId: $b, status: $s, limit: 1, nextToken: $n) { items { id } nextToken } }"
)


def orders(stack: LocalStack, user: dict[str, str], **variables: Any) -> dict[str, Any]:
    return graphql(stack, user["token"], ORDERS, variables)


def refusal(body: dict[str, Any]) -> tuple[Any, ...]:
    assert body["data"] is None, body
    (error,) = body["errors"]
    return error["errorType"], error["message"], error["path"]


def test_a_page_token_reveals_nothing_and_opens_only_for_its_caller_and_query(
    stack: LocalStack, alice: dict[str, str], bob: dict[str, str]
) -> None:
    # Given Alice's live basket of four orders, and her first page of them
    basket = live_condor(alice["sub"])
    first = orders(stack, alice, b=basket["id"])["data"]["orders"]
    token = first["nextToken"]
    assert token

    # Then the token names neither the basket nor any order (it is not an encoding of the key)
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in [basket["id"], first["items"][0]["id"], alice["sub"], "ORDER", "BASKET"]:
        assert secret.encode() not in decoded
        assert secret not in token

    # It continues Alice's listing
    second = orders(stack, alice, b=basket["id"], n=token)["data"]["orders"]
    assert second["items"] and second["items"][0]["id"] != first["items"][0]["id"]

    invalid = ("ValidationError", "invalid nextToken", ["orders"])
    # but not Bob's, not another filter of Alice's, not when edited
    assert refusal(orders(stack, bob, n=token)) == invalid
    assert refusal(orders(stack, alice, n=token)) == invalid
    assert refusal(orders(stack, alice, b=basket["id"], s="COMPLETE", n=token)) == invalid
    edited = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert refusal(orders(stack, alice, b=basket["id"], n=edited)) == invalid
    plain_key = base64.urlsafe_b64encode(b'{"pk":{"S":"BASKET#x"},"sk":{"S":"ORDER#y"}}').decode()
    assert refusal(orders(stack, alice, b=basket["id"], n=plain_key)) == invalid


def test_another_users_basket_answers_as_one_that_does_not_exist(
    stack: LocalStack, alice: dict[str, str], bob: dict[str, str]
) -> None:
    # Given Alice's live basket
    basket = live_condor(alice["sub"])
    missing = "0" * len(basket["id"])

    # When Bob lists its orders, and those of a basket nobody has
    theirs = orders(stack, bob, b=basket["id"])
    nobodys = orders(stack, bob, b=missing)

    # Then both answers are the same refusal, naming only the id he sent
    assert refusal(theirs) == ("NotFound", f"basket {basket['id']} not found", ["orders"])
    assert refusal(nobodys) == ("NotFound", f"basket {missing} not found", ["orders"])
    assert set(theirs) == set(nobodys) == {"data", "errors"}

"""Postbacks the route refuses before parsing: too large, not UTF-8, nested too deep; nothing is written."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from resolvers.postback import MAX_POSTBACK_BYTES
from tests.e2e.test_broker_execution import create, execute, held_postbacks, leg, release
from tests.helpers import CE_26000
from trading.ids import OrderId, OwnerId

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e
__all__ = ["held_postbacks"]  # the fixture, used here


def by_route(stack: LocalStack, body: bytes) -> requests.Response:
    return requests.post(
        f"{stack.url}/postback/kite", data=body, headers={"content-type": "application/json"}, timeout=30
    )


def attacks(genuine: dict[str, Any]) -> list[tuple[str, bytes, int]]:
    """Bodies that keep the genuine checksum (Kite signs only order_id + order_timestamp)."""
    signed = json.dumps(genuine).encode()
    return [
        ("invalid UTF-8", signed.replace(b'"status": "OPEN"', b'"status": "OPEN\xff"'), 400),
        ("lone surrogate bytes", signed.replace(b'"status": "OPEN"', b'"status": "OPEN\xed\xa0\x80"'), 400),
        (
            "meta nested 1,000 deep",
            signed.replace(b'"meta": {}', b'"meta": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000),
            400,
        ),
        ("500 KB status_message", json.dumps({**genuine, "status_message": "HACKED " * 75_000}).encode(), 413),
        ("just over the bound", signed + b" " * (MAX_POSTBACK_BYTES - len(signed) + 1), 413),
    ]


def test_a_postback_too_large_undecodable_or_too_deep_is_refused_before_parsing(
    stack: LocalStack, held_postbacks: list[dict[str, Any]]
) -> None:
    # Given a resting order and its genuine OPEN postback
    user = stack.add_user("postback_bounds")
    basket_id = create(stack, user["token"], [leg(CE_26000, orderType="LIMIT", price="1.00")])
    [order] = execute(stack, user["token"], basket_id)["orders"]
    [genuine] = [p for p in release(stack, held_postbacks) if p["order_id"] == order["brokerOrderId"]][-1:]
    assert genuine["status"] == "OPEN"
    assert "meta" in genuine
    before = stack.composition.ports.orders.get(OwnerId(user["sub"]), OrderId(order["id"]))

    # When each edited body arrives at the postback URL
    replies = {case: by_route(stack, body) for case, body, _ in attacks(genuine)}

    # Then each gets its 4xx, and the order is as it was (the Order compares every field, its version too)
    assert {case: r.status_code for case, r in replies.items()} == {case: s for case, _, s in attacks(genuine)}
    assert all("error" in r.json() for r in replies.values())
    assert stack.composition.ports.orders.get(OwnerId(user["sub"]), OrderId(order["id"])) == before
    # and the genuine body is still accepted
    assert by_route(stack, json.dumps(genuine).encode()).status_code == 200


def test_an_edited_postback_under_a_genuine_checksum_changes_nothing_the_broker_did_not(
    stack: LocalStack, held_postbacks: list[dict[str, Any]]
) -> None:
    # Given two resting orders of a user, and the genuine OPEN postback of the first
    user = stack.add_user("postback_edits")
    basket_id = create(
        stack,
        user["token"],
        [leg(CE_26000, orderType="LIMIT", price="1.00"), leg(CE_26000, orderType="LIMIT", price="1.05")],
    )
    first, second = execute(stack, user["token"], basket_id)["orders"]
    postbacks = release(stack, held_postbacks)
    [genuine] = [p for p in postbacks if p["order_id"] == first["brokerOrderId"]][-1:]
    for postback in postbacks:  # delivered as sent: both orders are OPEN here as at the exchange
        by_route(stack, json.dumps(postback).encode())
    owner = OwnerId(user["sub"])
    before = {o: stack.composition.ports.orders.get(owner, OrderId(o)) for o in (first["id"], second["id"])}
    assert genuine["status"] == "OPEN"
    assert {o.status.value for o in before.values()} == {"OPEN"}

    # When edited copies arrive, each keeping the genuine order_id, order_timestamp and checksum
    edits = [
        {"status_message": "HACKED: margin call, deposit now"},
        {"status": "CANCELLED", "status_message": "HACKED"},
        {"status": "TRIGGER PENDING"},
        {"status": "COMPLETE", "filled_quantity": 65, "pending_quantity": 0, "average_price": 1},
        {"tag": second["id"], "status": "CANCELLED"},  # aimed at the other order
        {"user_id": "XX0000", "status": "REJECTED"},
    ]
    replies = [by_route(stack, json.dumps({**genuine, **edit}).encode()) for edit in edits]

    # Then every reply is a 2xx, and each order is as the exchange has it: OPEN, unfilled, no planted message
    assert [r.status_code for r in replies] == [200] * len(edits), [r.text for r in replies]
    for order_id, was in before.items():
        now = stack.composition.ports.orders.get(owner, OrderId(order_id))
        assert (now.status, now.filled_quantity, now.status_message) == (was.status, 0, was.status_message)
        assert "HACKED" not in (now.status_message or "")

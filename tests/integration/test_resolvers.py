"""Every query and mutation through the resolver Lambda's handler with AppSync events, against the
embedded DynamoDB and the paper exchange over real HTTP (the local stack's edges)."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from local.lambda_context import LambdaContext
from resolvers.handler import make_handler
from tests.events import appsync_event
from tests.fakes import FixedClock
from tests.helpers import (
    CE_26000,
    CE_26500,
    PE_25500,
    PE_26000,
    an_order_input,
    condor_input,
    exchange_order_count,
    invoke,
    live_condor,
    wait_until,
)
from trading.clock import IST
from trading.ids import BasketId, OwnerId
from trading.rules.calendar import MarketCalendar
from trading.usecases import execution as executing

if TYPE_CHECKING:
    from tests.stack_fixtures import WriteLog


def call(parent: str, field: str, arguments: dict[str, Any] | None = None, sub: str | None = None) -> Any:
    return invoke(parent, field, arguments, sub)


def ok(parent: str, field: str, arguments: dict[str, Any] | None, sub: str) -> Any:
    result = call(parent, field, arguments, sub)
    assert not (isinstance(result, dict) and "error" in result), result
    return result


def error_of(result: Any) -> tuple[str, str]:
    assert isinstance(result, dict) and "error" in result, f"expected an error, got {result}"
    return result["error"]["type"], result["error"]["message"]


@pytest.fixture
def draft(alice: dict[str, str]) -> dict[str, Any]:
    return ok("Mutation", "createBasket", {"input": condor_input()}, alice["sub"])


@pytest.fixture
def live(alice: dict[str, str]) -> dict[str, Any]:
    return live_condor(alice["sub"])


def test_me_is_the_caller(alice: dict[str, str]) -> None:
    me = ok("Query", "me", None, alice["sub"])
    assert me == {"id": alice["sub"], "username": alice["sub"]}


def test_no_identity_is_unauthorized() -> None:
    assert error_of(call("Query", "baskets", {}, None))[0] == "Unauthorized"


def test_create_edit_and_delete_a_draft_basket(alice: dict[str, str]) -> None:
    sub = alice["sub"]
    basket = ok("Mutation", "createBasket", {"input": {"name": "  weekly  ", "risk": {"maxLoss": "5000"}}}, sub)
    assert (basket["name"], basket["status"], basket["version"]) == ("weekly", "DRAFT", 1)
    assert basket["risk"] == {"maxLoss": "5000.00", "target": None}

    basket = ok(
        "Mutation",
        "addStrategy",
        {"input": {"basketId": basket["id"], "expectedVersion": 1, "name": "straddle", "legs": []}},
        sub,
    )
    strategy_id = basket["strategies"][0]["id"]
    leg = {"exchange": "NFO", "tradingsymbol": CE_26000, "side": "SELL", "lots": 1}
    basket = ok(
        "Mutation",
        "addLeg",
        {"input": {"basketId": basket["id"], "expectedVersion": 2, "strategyId": strategy_id, "leg": leg}},
        sub,
    )
    leg_id = basket["strategies"][0]["legs"][0]["id"]
    changed = {**leg, "lots": 2, "orderType": "LIMIT", "price": "300.05"}
    basket = ok(
        "Mutation",
        "updateLeg",
        {
            "input": {
                "basketId": basket["id"],
                "expectedVersion": 3,
                "strategyId": strategy_id,
                "legId": leg_id,
                "leg": changed,
            }
        },
        sub,
    )
    assert basket["strategies"][0]["legs"][0] | {"id": None} == {
        "id": None,
        "exchange": "NFO",
        "tradingsymbol": CE_26000,
        "side": "SELL",
        "lots": 2,
        "orderType": "LIMIT",
        "product": "NRML",
        "price": "300.05",
        "triggerPrice": None,
        "marketProtection": "AUTO",
        "risk": None,
    }
    basket = ok(
        "Mutation",
        "updateStrategy",
        {"input": {"basketId": basket["id"], "expectedVersion": 4, "strategyId": strategy_id, "name": "short call"}},
        sub,
    )
    assert basket["strategies"][0]["name"] == "short call"
    basket = ok("Mutation", "removeLeg", {"basketId": basket["id"], "expectedVersion": 5, "legId": leg_id}, sub)
    assert basket["strategies"][0]["legs"] == []
    basket = ok(
        "Mutation", "removeStrategy", {"basketId": basket["id"], "expectedVersion": 6, "strategyId": strategy_id}, sub
    )
    assert basket["strategies"] == []
    basket = ok(
        "Mutation",
        "updateBasket",
        {
            "input": {
                "id": basket["id"],
                "expectedVersion": 7,
                "name": "monthly",
                "schedule": {"entryAt": "09:20", "exitAt": "15:10"},
            }
        },
        sub,
    )
    assert basket["schedule"] == {"entryAt": "09:20", "exitAt": "15:10"}
    ok("Mutation", "deleteBasket", {"id": basket["id"], "expectedVersion": 8}, sub)
    assert error_of(call("Query", "basket", {"id": basket["id"]}, sub))[0] == "NotFound"


def test_baskets_are_paginated_newest_first(bob: dict[str, str]) -> None:
    names = [f"page-{i}" for i in range(5)]
    for name in names:
        ok("Mutation", "createBasket", {"input": {"name": name}}, bob["sub"])
    seen: list[str] = []
    token = None
    while True:
        page = ok("Query", "baskets", {"limit": 2, "nextToken": token}, bob["sub"])
        assert len(page["items"]) <= 2
        seen += [b["name"] for b in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert [n for n in seen if n.startswith("page-")] == list(reversed(names))


def test_execute_fills_every_leg_and_builds_positions_and_pnl(alice: dict[str, str], live: dict[str, Any]) -> None:
    sub = alice["sub"]
    assert live["status"] == "LIVE"
    assert len(live["orders"]) == 4
    assert {o["status"] for o in live["orders"]} == {"COMPLETE"}
    assert all(o["filledQuantity"] == o["quantity"] == 65 for o in live["orders"])
    positions = ok("Query", "positions", {"basketId": live["id"]}, sub)
    assert sorted((p["tradingsymbol"], p["netQuantity"]) for p in positions) == sorted(
        [(CE_26000, -65), (PE_26000, -65), (CE_26500, 65), (PE_25500, 65)]
    )
    report = ok("Query", "pnl", {"basketId": live["id"]}, sub)
    expected = Decimal(0)
    for row in report["positions"]:
        p = row["position"]
        expected += (Decimal(p["sellValue"]) - Decimal(p["buyValue"])) + p["netQuantity"] * Decimal(
            row["lastPrice"]
        ) * Decimal(p["multiplier"])
    assert Decimal(report["pnl"]) == expected.quantize(Decimal("0.01"))


def test_buy_legs_are_placed_before_sell_legs(live: dict[str, Any]) -> None:
    by_time = sorted(live["orders"], key=lambda o: (o["createdAt"], o["id"]))
    sides = [o["side"] for o in sorted(by_time, key=lambda o: int(o["brokerOrderId"]))]
    assert sides == ["BUY", "BUY", "SELL", "SELL"]


def test_orders_list_filters_and_single_order(alice: dict[str, str], live: dict[str, Any]) -> None:
    sub = alice["sub"]
    page = ok("Query", "orders", {"basketId": live["id"], "limit": 10}, sub)
    assert {o["id"] for o in page["items"]} == {o["id"] for o in live["orders"]}
    complete = ok("Query", "orders", {"status": "COMPLETE", "limit": 100}, sub)
    assert all(o["status"] == "COMPLETE" and o["filledQuantity"] == o["quantity"] for o in complete["items"])
    one = ok("Query", "order", {"id": live["orders"][0]["id"]}, sub)
    assert one["id"] == live["orders"][0]["id"]


def test_place_cancel_and_exit(alice: dict[str, str], live: dict[str, Any], stack: Any) -> None:
    sub = alice["sub"]
    resting = ok("Mutation", "placeOrder", {"input": an_order_input(live["id"])}, sub)
    assert resting["status"] in ("PENDING", "OPEN")
    wait_until(lambda: ok("Query", "order", {"id": resting["id"]}, sub)["status"] == "OPEN")
    cancelled = ok("Mutation", "cancelOrder", {"id": resting["id"]}, sub)
    assert cancelled["status"] == "CANCELLED"
    assert error_of(call("Mutation", "cancelOrder", {"id": resting["id"]}, sub))[0] == "Conflict"

    another = ok("Mutation", "placeOrder", {"input": an_order_input(live["id"])}, sub)
    wait_until(lambda: ok("Query", "order", {"id": another["id"]}, sub)["status"] == "OPEN")
    cancelled_all = ok("Mutation", "cancelAllOrders", {"basketId": live["id"]}, sub)
    assert [o["id"] for o in cancelled_all] == [another["id"]]

    execution = ok("Mutation", "exitBasket", {"basketId": live["id"], "clientRequestId": str(uuid.uuid4())}, sub)
    # (the first turn places the square-off only once the cancels' updates have landed; else a later turn does)
    assert len(execution["orders"]) in (0, 4)
    wait_until(lambda: ok("Query", "basket", {"id": live["id"]}, sub)["status"] == "CLOSED")
    final = ok("Query", "basket", {"id": live["id"]}, sub)
    entries = {o["id"] for o in live["orders"]}
    exits = [o for o in final["orders"] if o["id"] not in entries and o["status"] == "COMPLETE"]
    assert sorted((o["tradingsymbol"], o["side"]) for o in exits) == sorted(
        (o["tradingsymbol"], "SELL" if o["side"] == "BUY" else "BUY") for o in live["orders"]
    )
    positions = ok("Query", "positions", {"basketId": live["id"]}, sub)
    assert all(p["netQuantity"] == 0 for p in positions)


def test_instruments_search(alice: dict[str, str]) -> None:
    found = ok("Query", "instruments", {"search": "nifty26dec26", "exchange": "nfo"}, alice["sub"])
    assert {i["tradingsymbol"] for i in found} == {
        "NIFTY26DEC26000CE",
        "NIFTY26DEC26000PE",
        "NIFTY26DEC26500CE",
        "NIFTY26DEC26500PE",
    }
    assert {(i["lotSize"], i["tickSize"]) for i in found} == {(65, "0.05")}
    everywhere = ok("Query", "instruments", {"search": "RELI"}, alice["sub"])
    assert [i["exchange"] for i in everywhere] == ["NSE"]


def test_the_same_client_request_id_places_once_even_concurrently(alice: dict[str, str], stack: Any) -> None:
    # Given a draft basket and one clientRequestId
    sub = alice["sub"]
    draft = ok("Mutation", "createBasket", {"input": condor_input()}, sub)
    request_id = str(uuid.uuid4())
    before = exchange_order_count(stack, sub)
    results: list[list[str]] = []

    # When four callers execute it at once (the use case itself: a Lambda instance takes one event
    # at a time, so concurrency lives between instances), then once more through the handler
    def execute() -> None:
        execution = executing.execute_basket(stack.composition.ports, OwnerId(sub), BasketId(draft["id"]), request_id)
        results.append(sorted(o.id for o in execution.orders))

    threads = [threading.Thread(target=execute) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = ok("Mutation", "executeBasket", {"basketId": draft["id"], "clientRequestId": request_id}, sub)
    results.append(sorted(o["id"] for o in again["orders"]))

    # Then every caller got the first result and the exchange saw four orders, once
    assert len(results) == 5
    assert all(ids == results[0] for ids in results)
    assert len(results[0]) == 4
    assert exchange_order_count(stack, sub) - before == 4


def test_regular_orders_outside_market_hours_are_refused_and_write_nothing(
    alice: dict[str, str], writes: WriteLog, stack: Any
) -> None:
    draft = ok("Mutation", "createBasket", {"input": condor_input()}, alice["sub"])
    writes.clear()
    closed = dataclasses.replace(
        stack.composition.ports,
        calendar=MarketCalendar(),
        clock=FixedClock(datetime(2026, 11, 23, 22, 0, tzinfo=IST).astimezone(UTC)),
    )
    at_night = make_handler(lambda: stack.composition.with_ports(closed))
    event = appsync_event(
        "Mutation", "executeBasket", {"basketId": draft["id"], "clientRequestId": "night"}, alice["sub"]
    )
    kind, message = error_of(at_night(event, LambdaContext()))
    assert (kind, "use variety AMO" in message) == ("ValidationError", True)
    assert writes.made() == []

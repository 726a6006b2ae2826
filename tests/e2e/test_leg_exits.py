"""Legs' managed exits on the local stack (issue 16): GraphQL over HTTP, the stream handler fed by the poller,
the paper exchange over real HTTP with the market driven by the test. A leg's stop-loss squares off that leg
alone; a trailing stop follows a rising price and fires on the pull-back at its level; move-to-cost; a re-entry
and its limit; each trigger acted on once when the stream's records are delivered again, to two handlers at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from gql import Client
from gql.transport.exceptions import TransportQueryError

from local.lambda_context import LambdaContext
from store.items.mark import mark_item
from subscriptions.handler import Live, make_handler
from subscriptions.legs import LegWatch
from subscriptions.pnl import PnlFeed
from tests.e2e.test_broker_execution import leg
from tests.e2e.test_live_updates import collect, transport
from tests.graphql_client import graphql
from tests.graphql_client import graphql_data as data
from tests.helpers import CE_26000, CE_26500, PE_26000, wait_until
from tests.integration.test_basket_risk import Recording, stream_records
from trading.clock import SystemClock
from trading.model import InstrumentRef
from trading.pnl_engine import PnlEngine

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

CALL, WING = InstrumentRef("NFO", CE_26000), InstrumentRef("NFO", CE_26500)
SETTLE = 60
TERMINAL = {"COMPLETE", "CANCELLED", "REJECTED"}
CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id strategies { legs { id risk { "
CREATE += "stopLoss { basis value } trail { step offset } reEntry { times } } } } } }"
EXECUTE = "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) { basket { id } } }"
VIEW = (
    "query($id: ID!) { basket(id: $id) { status statusMessage orders { id status side tradingsymbol quantity "
    "filledQuantity orderType } positions { tradingsymbol netQuantity averagePrice } } }"
)
RISK = (
    "query($id: ID!) { riskState(basketId: $id) { basketId legs { legId tradingsymbol side entry stopLoss target "
    "trailingPeak movedToCost lastPrice distanceToStopLoss distanceToTarget triggered triggeredAt reEntriesUsed "
    "reEntriesLeft } } }"
)


def view(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    return dict(data(stack, token, VIEW, {"id": basket_id})["basket"])


def risk(stack: LocalStack, token: str, basket_id: str) -> dict[str, Any]:
    """The call leg's risk state (the basket's only watched leg)."""
    legs = data(stack, token, RISK, {"id": basket_id})["riskState"]["legs"]
    assert len(legs) == 1, legs
    return dict(legs[0])


def live_basket(stack: LocalStack, token: str, leg_risk: dict[str, Any]) -> tuple[str, Decimal]:
    """LIVE: long one lot of the call with `leg_risk` (MARKET), short the wing unwatched. Returns the id and the
    call's entry (its position's average price)."""
    stack.set_prices({CALL: Decimal("100.00"), WING: Decimal("40.00")})
    legs = [leg(CE_26000, orderType="MARKET", risk=leg_risk), leg(CE_26500, side="SELL", orderType="MARKET")]
    created = data(stack, token, CREATE, {"i": {"name": "leg exits", "strategies": [{"name": "s", "legs": legs}]}})
    basket_id = str(created["createBasket"]["id"])
    data(stack, token, EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})

    def filled() -> bool:
        b = view(stack, token, basket_id)
        nets = {p["tradingsymbol"]: p["netQuantity"] for p in b["positions"]}
        return b["status"] == "LIVE" and nets.get(CE_26000, 0) > 0 and nets.get(CE_26500, 0) < 0

    wait_until(filled, timeout=SETTLE)
    position = next(p for p in view(stack, token, basket_id)["positions"] if p["tradingsymbol"] == CE_26000)
    return basket_id, Decimal(position["averagePrice"])


def mark(stack: LocalStack, price: Decimal) -> None:
    stack.set_prices({CALL: price})


def call_orders(stack: LocalStack, token: str, basket_id: str, side: str) -> list[dict[str, Any]]:
    return [o for o in view(stack, token, basket_id)["orders"] if o["tradingsymbol"] == CE_26000 and o["side"] == side]


def flat_after_exit(stack: LocalStack, token: str, basket_id: str, exits: int = 1) -> dict[str, Any]:
    """The basket once the call's `exits` exit orders filled and it is flat; the wing still short."""

    def done() -> bool:
        b = view(stack, token, basket_id)
        nets = {p["tradingsymbol"]: p["netQuantity"] for p in b["positions"]}
        sells = [o for o in b["orders"] if o["tradingsymbol"] == CE_26000 and o["side"] == "SELL"]
        complete = len(sells) == exits and all(o["status"] == "COMPLETE" for o in sells)
        return complete and nets.get(CE_26000) == 0

    wait_until(done, timeout=SETTLE)
    return view(stack, token, basket_id)


def test_a_legs_stop_loss_squares_off_that_leg_and_its_exit_fills(stack: LocalStack) -> None:
    token = stack.add_user(f"legsl{uuid.uuid4().hex[:6]}")["token"]
    # Given a LIVE basket whose long call has a 20-point stop-loss and a 50-point target
    basket_id, entry = live_basket(
        stack, token, {"stopLoss": {"basis": "POINTS", "value": "20"}, "target": {"basis": "PERCENT", "value": "50"}}
    )
    # When the call ticks, its levels are set from the entry
    mark(stack, entry + Decimal("0.05"))
    wait_until(lambda: risk(stack, token, basket_id)["stopLoss"] is not None, timeout=SETTLE)
    state = risk(stack, token, basket_id)
    assert Decimal(state["entry"]) == entry
    assert Decimal(state["stopLoss"]) == entry - 20 and Decimal(state["target"]) == entry * Decimal("1.5")
    assert Decimal(state["distanceToStopLoss"]) == Decimal("20.05")
    # When it falls to 0.05 above the stop nothing happens; at the stop the leg is squared off
    mark(stack, entry - Decimal("19.95"))
    mark(stack, entry - 20)
    final = flat_after_exit(stack, token, basket_id)
    # Then one protected MARKET exit of one lot (65) filled, the basket is LIVE, the wing untouched
    (exit_order,) = call_orders(stack, token, basket_id, "SELL")
    assert (exit_order["orderType"], exit_order["quantity"]) == ("MARKET", 65)
    assert final["status"] == "LIVE"
    assert final["statusMessage"].startswith(f"leg BUY {CE_26000}: stop-loss {entry - 20:.2f} reached at")
    assert {p["tradingsymbol"]: p["netQuantity"] for p in final["positions"]}[CE_26500] == -65
    state = risk(stack, token, basket_id)
    assert (state["triggered"], Decimal(state["triggeredAt"])) == ("STOP_LOSS", entry - 20)


def test_a_trailing_stop_follows_a_rising_price_and_fires_on_the_pull_back_at_its_level(stack: LocalStack) -> None:
    token = stack.add_user(f"legtr{uuid.uuid4().hex[:6]}")["token"]
    # Given a 20-point stop trailed by 5 points every 10 points in the leg's favour
    trail = {"stopLoss": {"basis": "POINTS", "value": "20"}, "trail": {"step": "10", "offset": "5"}}
    basket_id, entry = live_basket(stack, token, trail)
    # When the price rises 27 points, in three moves
    for up in ("9.95", "18.5", "27"):
        mark(stack, entry + Decimal(up))
    wait_until(lambda: risk(stack, token, basket_id)["trailingPeak"] == f"{entry + 27:.2f}", timeout=SETTLE)
    # Then the stop moved up two steps: entry - 20 + 2 x 5
    state = risk(stack, token, basket_id)
    assert Decimal(state["stopLoss"]) == entry - 10 and state["triggered"] is None
    # When the price pulls back: 0.05 above the stop, then to it
    mark(stack, entry - Decimal("9.95"))
    mark(stack, entry - 10)
    flat_after_exit(stack, token, basket_id)
    # Then it fired once, at its trailed level (not on the first pull-back), and the stop never moved back
    state = risk(stack, token, basket_id)
    assert (state["triggered"], Decimal(state["triggeredAt"]), Decimal(state["stopLoss"])) == (
        "STOP_LOSS",
        entry - 10,
        entry - 10,
    )
    assert len(call_orders(stack, token, basket_id, "SELL")) == 1


def test_move_to_cost_puts_the_stop_at_the_entry_once_the_profit_is_reached(stack: LocalStack) -> None:
    token = stack.add_user(f"legmc{uuid.uuid4().hex[:6]}")["token"]
    settings = {"stopLoss": {"basis": "POINTS", "value": "20"}, "moveToCostAt": {"basis": "POINTS", "value": "15"}}
    basket_id, entry = live_basket(stack, token, settings)
    mark(stack, entry + 15)
    wait_until(lambda: risk(stack, token, basket_id)["movedToCost"], timeout=SETTLE)
    assert Decimal(risk(stack, token, basket_id)["stopLoss"]) == entry
    mark(stack, entry)
    final = flat_after_exit(stack, token, basket_id)
    assert "stop-loss (moved to cost)" in final["statusMessage"]


def test_a_stopped_leg_is_entered_again_up_to_its_limit(stack: LocalStack) -> None:
    token = stack.add_user(f"legre{uuid.uuid4().hex[:6]}")["token"]
    settings = {"stopLoss": {"basis": "POINTS", "value": "20"}, "reEntry": {"times": 1}}
    basket_id, entry = live_basket(stack, token, settings)
    mark(stack, entry + Decimal("0.05"))
    wait_until(lambda: risk(stack, token, basket_id)["stopLoss"] is not None, timeout=SETTLE)
    mark(stack, entry - 20)
    # Then, once squared off, the leg is entered again at the market (the price now), with fresh levels
    wait_until(lambda: len(call_orders(stack, token, basket_id, "BUY")) == 2, timeout=SETTLE)
    wait_until(lambda: all(o["status"] in TERMINAL for o in view(stack, token, basket_id)["orders"]), timeout=SETTLE)

    def re_entered() -> bool:  # an order can read COMPLETE before the update that carries its fill
        call = next(p for p in view(stack, token, basket_id)["positions"] if p["tradingsymbol"] == CE_26000)
        return int(call["netQuantity"]) > 0

    wait_until(re_entered, timeout=SETTLE)
    re_entry = next(p for p in view(stack, token, basket_id)["positions"] if p["tradingsymbol"] == CE_26000)
    again = Decimal(re_entry["averagePrice"])
    mark(stack, again + Decimal("0.05"))
    wait_until(lambda: risk(stack, token, basket_id)["entry"] == f"{again:.2f}", timeout=SETTLE)
    state = risk(stack, token, basket_id)
    assert (state["reEntriesUsed"], state["reEntriesLeft"], state["triggered"]) == (1, 0, None)
    assert Decimal(state["stopLoss"]) == again - 20
    # When it is stopped again, it is squared off and not entered a third time
    mark(stack, again - 20)
    flat_after_exit(stack, token, basket_id, exits=2)
    wait_until(lambda: risk(stack, token, basket_id)["triggered"] == "STOP_LOSS", timeout=SETTLE)
    mark(stack, again - Decimal("19.95"))
    assert len(call_orders(stack, token, basket_id, "BUY")) == 2


def firing_mark(price: Decimal, sequence: str) -> dict[str, Any]:
    """A stream record of a mark of the call that the table never held: only the handlers given it see it."""
    item = mark_item(CALL, price, datetime.now(UTC))
    keys = {"PK": item["PK"], "SK": item["SK"]}
    change = {"Keys": keys, "NewImage": item, "SequenceNumber": sequence, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {
        "eventID": f"synthetic-{sequence}",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }


def cold_handler(stack: LocalStack, recording: Recording) -> Any:
    """A new stream handler instance: its own P&L engine (loading positions on a first mark) and leg cache."""
    pnl = PnlFeed(
        PnlEngine(), SystemClock(), wait_for_stragglers=False, positions_of=stack.store.orders.positions_of_instrument
    )
    live = Live(publisher=recording, pnl=pnl, legs=LegWatch(lambda: stack.composition.ports, pnl))
    return make_handler(lambda: live)


def test_each_trigger_is_acted_on_once_under_replayed_batches_and_two_concurrent_handlers(stack: LocalStack) -> None:
    token = stack.add_user(f"legx1{uuid.uuid4().hex[:6]}")["token"]
    # Given a LIVE basket whose call has a 20-point stop, its levels set by a real mark
    basket_id, entry = live_basket(stack, token, {"stopLoss": {"basis": "POINTS", "value": "20"}})
    mark(stack, entry + Decimal("0.05"))
    wait_until(lambda: risk(stack, token, basket_id)["stopLoss"] is not None, timeout=SETTLE)
    # When a mark past the stop reaches two handler instances at once, each delivering its batch twice (a retry)
    event = {"Records": [firing_mark(entry - 25, "900000000000000000001")]}
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def deliver() -> None:
        handler = cold_handler(stack, Recording())
        start.wait(timeout=SETTLE)
        try:
            for _ in range(2):
                assert handler(event, LambdaContext()) == {"batchItemFailures": []}
        except BaseException as exc:  # surfaced below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SETTLE)
    assert not failures, failures
    # Then the leg was squared off once, and its state says why
    flat_after_exit(stack, token, basket_id)
    state = risk(stack, token, basket_id)
    assert (state["triggered"], Decimal(state["triggeredAt"])) == ("STOP_LOSS", entry - 25)
    # When every real record of the basket and the call's marks is delivered again, warm (twice) and cold
    records = stream_records(stack, {f"BASKET#{basket_id}", f"MARK#{CALL}"})
    stack.stream_handler({"Records": records}, LambdaContext())
    stack.stream_handler({"Records": records}, LambdaContext())
    recording = Recording()
    cold_handler(stack, recording)({"Records": records}, LambdaContext())
    # Then the leg's state was saved fired once (the other handler's save lost on its version), one exit order
    # was sent, the basket is LIVE, and the replay published the fired state again (same event ids)
    fired_saves = [r for r in records if r["dynamodb"]["Keys"]["SK"]["S"].startswith("LEGRISK#")]
    assert len([r for r in fired_saves if "fired" in r["dynamodb"].get("NewImage", {})]) == 1
    assert len(call_orders(stack, token, basket_id, "SELL")) == 1
    assert view(stack, token, basket_id)["status"] == "LIVE"
    fired = [e for e in recording.events if e.kind == "risk" and e.payload["legs"][0]["triggered"] == "STOP_LOSS"]
    assert fired and all(e.event_id.startswith(f"risk:{basket_id}:") for e in fired)


def test_bad_leg_risk_is_refused_with_a_typed_error_and_nothing_is_written(stack: LocalStack) -> None:
    token = stack.add_user(f"legbad{uuid.uuid4().hex[:6]}")["token"]
    before = data(stack, token, "{ baskets { items { id } } }")["baskets"]["items"]
    for bad, message in (
        ({"stopLoss": {"basis": "POINTS", "value": "-5"}}, "stopLoss.value must be a positive number"),
        ({"stopLoss": {"basis": "PREMIUM", "value": "1.10"}}, "wrong side"),
        ({"trail": {"step": "10", "offset": "5"}}, "needs a stopLoss"),
    ):
        legs = [leg(CE_26000, orderType="LIMIT", price="1.00", risk=bad)]
        body = graphql(stack, token, CREATE, {"i": {"name": "bad", "strategies": [{"name": "s", "legs": legs}]}})
        (error,) = body["errors"]
        assert error["errorType"] == "ValidationError" and message in error["message"], error
    assert data(stack, token, "{ baskets { items { id } } }")["baskets"]["items"] == before


def test_risk_state_is_the_callers_own(stack: LocalStack) -> None:
    owner = stack.add_user(f"legown{uuid.uuid4().hex[:6]}")
    other = stack.add_user(f"legoth{uuid.uuid4().hex[:6]}")
    legs = [leg(CE_26000, orderType="LIMIT", price="1.00", risk={"stopLoss": {"basis": "POINTS", "value": "1"}})]
    created = data(stack, owner["token"], CREATE, {"i": {"name": "mine", "strategies": [{"name": "s", "legs": legs}]}})
    basket_id = created["createBasket"]["id"]
    assert data(stack, owner["token"], RISK, {"id": basket_id})["riskState"]["legs"][0]["stopLoss"] is None
    (error,) = graphql(stack, other["token"], RISK, {"id": basket_id})["errors"]
    assert error["errorType"] == "NotFound"


ON_RISK = (
    "subscription($o: ID!, $b: ID) { onRiskState(ownerId: $o, basketId: $b) "
    "{ eventId basketId asOf legs { legId stopLoss trailingPeak triggered reEntriesUsed } } }"
)


def test_on_risk_state_streams_a_trailing_stop_as_it_moves_to_its_owner_only(stack: LocalStack) -> None:
    owner = stack.add_user(f"legsub{uuid.uuid4().hex[:6]}")
    other = stack.add_user(f"legspy{uuid.uuid4().hex[:6]}")
    trail = {"stopLoss": {"basis": "POINTS", "value": "20"}, "trail": {"step": "10", "offset": "5"}}
    basket_id, entry = live_basket(stack, owner["token"], trail)
    heard: list[dict[str, Any]] = []
    refused: list[BaseException] = []

    def stops() -> list[str]:
        return [e["onRiskState"]["legs"][0]["stopLoss"] for e in heard]

    async def scenario() -> None:
        async with (
            Client(transport=transport(stack, owner["token"])) as mine,
            Client(transport=transport(stack, other["token"])) as theirs,
        ):
            subscribers = stack.pubsub.subscriber_count()
            task = asyncio.create_task(collect(mine, ON_RISK, {"o": owner["sub"], "b": basket_id}, heard))
            try:  # another user asking for the owner's risk state is refused
                await collect(theirs, ON_RISK, {"o": owner["sub"], "b": basket_id}, heard)
            except TransportQueryError as exc:
                refused.append(exc)
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count() > subscribers)
            # When the price ticks, then rises two steps
            for up in ("0.05", "10", "20"):
                await asyncio.to_thread(mark, stack, entry + Decimal(up))
            await asyncio.to_thread(wait_until, lambda: f"{entry - 10:.2f}" in stops(), SETTLE)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(asyncio.wait_for(scenario(), timeout=SETTLE * 2))
    # Then the owner heard the stop as it trailed (coalesced: a leg's latest state per stream batch), in order,
    # never moving back, ending two steps up; each event once, and nothing else
    heard_stops = [Decimal(s) for s in stops()]
    assert set(heard_stops) <= {entry - 20, entry - 15, entry - 10}
    assert heard_stops == sorted(heard_stops) and heard_stops[-1] == entry - 10
    assert len({e["onRiskState"]["eventId"] for e in heard}) == len(heard)
    assert {e["onRiskState"]["basketId"] for e in heard} == {basket_id}
    assert refused and ("Unauthorized" in str(refused[0]) or "own events" in str(refused[0]))


PUT = InstrumentRef("NFO", PE_26000)


def test_a_straddles_combined_premium_stop_squares_off_both_legs_once(stack: LocalStack) -> None:
    token = stack.add_user(f"legst{uuid.uuid4().hex[:6]}")["token"]
    # Given a LIVE short straddle (190.00 of combined premium) stopped at a combined premium of 230, and a wing
    stack.set_prices({CALL: Decimal("100.00"), PUT: Decimal("90.00"), WING: Decimal("40.00")})
    straddle = {
        "name": "straddle",
        "legs": [leg(CE_26000, side="SELL", orderType="MARKET"), leg(PE_26000, side="SELL", orderType="MARKET")],
        "risk": {"basis": "PREMIUM", "stopLoss": "230", "target": "120"},
    }
    wings = {"name": "wing", "legs": [leg(CE_26500, orderType="MARKET")]}
    created = data(stack, token, CREATE, {"i": {"name": "straddle stop", "strategies": [straddle, wings]}})
    basket_id = str(created["createBasket"]["id"])
    data(stack, token, EXECUTE, {"id": basket_id, "rid": str(uuid.uuid4())})

    def nets() -> dict[str, int]:
        return {p["tradingsymbol"]: p["netQuantity"] for p in view(stack, token, basket_id)["positions"]}

    wait_until(lambda: nets() == {CE_26000: -65, PE_26000: -65, CE_26500: 65}, timeout=SETTLE)
    # When the call rises 20 (combined 210) nothing happens; when the put rises 20 too (230) the stop is reached
    stack.set_prices({CALL: Decimal("120.00")})
    stack.set_prices({PUT: Decimal("110.00")})
    # Then both straddle legs are bought back, once each, the wing stays, the basket is LIVE and says why
    wait_until(lambda: nets() == {CE_26000: 0, PE_26000: 0, CE_26500: 65}, timeout=SETTLE)
    final = view(stack, token, basket_id)
    buys = sorted(o["tradingsymbol"] for o in final["orders"] if o["side"] == "BUY" and o["tradingsymbol"] != CE_26500)
    assert buys == sorted([CE_26000, PE_26000])
    assert final["status"] == "LIVE"
    assert final["statusMessage"] == (
        "strategy straddle: combined stop-loss 230.00 reached (combined premium 230.00); strategy exited"
    )
    # When the marks move again, nothing more is sent
    stack.set_prices({CALL: Decimal("125.00")})
    assert len([o for o in view(stack, token, basket_id)["orders"] if o["side"] == "BUY"]) == 3

"""Basket execution and risk through the real entrypoints on the local stack: the resolver Lambda, the stream
handler and the scheduler Lambda, over the embedded DynamoDB and the paper exchange (real HTTP, real postbacks)."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests

from local.edges import SCHEDULE_GROUP
from local.lambda_context import LambdaContext
from resolvers import schedules
from subscriptions.handler import Live, make_handler
from subscriptions.pnl import PnlFeed
from subscriptions.risk import RiskWatch
from tests.helpers import invoke, wait_until
from trading.clock import SystemClock
from trading.ids import BasketId, OwnerId
from trading.model import InstrumentRef
from trading.model.instrument import Instrument
from trading.pnl_engine import PnlEngine
from trading.usecases import automation

if TYPE_CHECKING:
    from local.stack import LocalStack
    from trading.ports import LiveEvent

SETTLE_SECONDS = 60  # postbacks on a busy 2-core machine can take a while; a pass is usually a second or two

# An instrument our master lists but the exchange no longer trades: the broker refuses it.
DELISTED = Instrument(
    token=999_001,
    exchange="NSE",
    tradingsymbol="DELISTEDCO",
    name="DELISTED CO",
    instrument_type="EQ",
    segment="NSE",
    lot_size=1,
    tick_size=Decimal("0.05"),
)


def exchange_orders(stack: LocalStack, sub: str) -> list[dict[str, Any]]:
    """The user's order book at the paper exchange, read with the official Kite client."""
    from kiteconnect import KiteConnect

    from brokers.kite.accounts import access_token_name
    from brokers.secrets import SsmSecretStore

    token = SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))
    return list(KiteConnect("paper", access_token=token, root=stack.exchange_url).orders())


def leg(symbol: str, side: str, lots: int, product: str = "NRML", exchange: str = "NSE") -> dict[str, Any]:
    return {"exchange": exchange, "tradingsymbol": symbol, "side": side, "lots": lots, "product": product}


def nfo(symbol: str, side: str) -> dict[str, Any]:
    return leg(symbol, side, 1, exchange="NFO")


def create(sub: str, legs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    strategies = [{"name": "s", "legs": legs}]
    created = invoke("Mutation", "createBasket", {"input": {"name": "risk", "strategies": strategies, **extra}}, sub)
    assert "error" not in created, created
    return dict(created)


def execute(sub: str, basket_id: str) -> dict[str, Any]:
    done = invoke("Mutation", "executeBasket", {"basketId": basket_id, "clientRequestId": str(uuid.uuid4())}, sub)
    assert "error" not in done, done
    return dict(done)


def basket(sub: str, basket_id: str) -> dict[str, Any]:
    return dict(invoke("Query", "basket", {"id": basket_id}, sub))


def settled(sub: str, basket_id: str, status: str) -> dict[str, Any]:
    """The basket once it has `status`, every order finished and every fill recorded."""

    def done() -> bool:
        b = basket(sub, basket_id)
        finished = all(o["status"] in ("COMPLETE", "CANCELLED", "REJECTED") for o in b["orders"])
        filled = all(o["filledQuantity"] == o["quantity"] for o in b["orders"] if o["status"] == "COMPLETE")
        return b["status"] == status and finished and filled

    wait_until(done, timeout=SETTLE_SECONDS)
    return basket(sub, basket_id)


def sent(b: dict[str, Any]) -> list[dict[str, Any]]:
    """The basket's orders that were sent: an exit turn that lost a race to another (a postback's, say) stores its
    orders CANCELLED "not placed" and never sends them."""
    return [o for o in b["orders"] if not (o["statusMessage"] or "").startswith("not placed")]


def net(b: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(p["tradingsymbol"], p["product"]): p["netQuantity"] for p in b["positions"]}


def set_price(stack: LocalStack, symbol: str, price: str) -> None:
    stack.set_prices({InstrumentRef("NSE", symbol): Decimal(price)})


def user(stack: LocalStack) -> str:
    return stack.add_user(f"risk{uuid.uuid4().hex[:8]}")["sub"]


def test_hedge_legs_are_placed_before_the_legs_they_hedge(stack: LocalStack) -> None:
    # Given a short straddle whose wings are in a second strategy
    sub = user(stack)
    legs_short = [nfo("NIFTY26DEC26000CE", "SELL"), nfo("NIFTY26DEC26000PE", "SELL")]
    legs_wings = [nfo("NIFTY26DEC26500CE", "BUY"), nfo("NIFTY26DEC25500PE", "BUY")]
    strategies = [{"name": "short straddle", "legs": legs_short}, {"name": "wings", "legs": legs_wings}]
    draft = invoke("Mutation", "createBasket", {"input": {"name": "condor", "strategies": strategies}}, sub)
    # When it is executed
    execute(sub, draft["id"])
    # Then the exchange received both wings (BUY) before either short leg, each side in basket order
    book = sorted(exchange_orders(stack, sub), key=lambda o: int(o["order_id"]))
    assert [(o["transaction_type"], o["tradingsymbol"]) for o in book] == [
        ("BUY", "NIFTY26DEC26500CE"),
        ("BUY", "NIFTY26DEC25500PE"),
        ("SELL", "NIFTY26DEC26000CE"),
        ("SELL", "NIFTY26DEC26000PE"),
    ]


def test_a_refused_leg_stops_execution_exits_the_filled_legs_and_fails_the_basket(stack: LocalStack) -> None:
    # Given a basket whose second leg the broker refuses (the default policy, EXIT_FILLED)
    stack.store.instruments.put_instruments([DELISTED])
    sub = user(stack)
    draft = create(sub, [leg("RELIANCE", "BUY", 3), leg("DELISTEDCO", "SELL", 2), leg("SBIN", "SELL", 4)])
    assert draft["onPartialFailure"] == "EXIT_FILLED"
    # When it is executed
    result = execute(sub, draft["id"])
    # Then the leg after the refusal was never sent, the exit loop squares off the filled leg (EXITING),
    # and once flat the basket is FAILED with the broker's reason
    assert result["basket"]["status"] in ("EXITING", "FAILED")
    final = settled(sub, draft["id"], "FAILED")
    assert final["statusMessage"].startswith("rejected: SELL 2 NSE:DELISTEDCO")
    assert final["statusMessage"].endswith("; what went through was squared off")
    statuses = {(o["tradingsymbol"], o["side"]): o["status"] for o in final["orders"]}
    assert statuses == {
        ("RELIANCE", "BUY"): "COMPLETE",
        ("DELISTEDCO", "SELL"): "REJECTED",
        ("SBIN", "SELL"): "CANCELLED",
        ("RELIANCE", "SELL"): "COMPLETE",
    }
    assert net(final) == {("RELIANCE", "NRML"): 0}
    book = exchange_orders(stack, sub)
    assert sorted((o["transaction_type"], o["tradingsymbol"]) for o in book) == [
        ("BUY", "RELIANCE"),
        ("SELL", "RELIANCE"),
    ]


def test_the_keep_policy_places_every_leg_and_keeps_what_filled_in_a_live_basket(stack: LocalStack) -> None:
    # Given the same structure with onPartialFailure KEEP_FILLED
    stack.store.instruments.put_instruments([DELISTED])
    sub = user(stack)
    legs = [leg("RELIANCE", "BUY", 3), leg("DELISTEDCO", "SELL", 2), leg("SBIN", "SELL", 4)]
    draft = create(sub, legs, onPartialFailure="KEEP_FILLED")
    # When it is executed
    execute(sub, draft["id"])
    # Then the basket is LIVE with what filled, and says which leg was refused; nothing was exited
    final = settled(sub, draft["id"], "LIVE")
    assert final["statusMessage"].startswith("partly executed, filled legs kept; rejected: SELL 2 NSE:DELISTEDCO")
    assert net(final) == {("RELIANCE", "NRML"): 3, ("SBIN", "NRML"): -4}
    assert len(exchange_orders(stack, sub)) == 2


class Recording:
    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def publish(self, event: LiveEvent) -> None:
        self.events.append(event)


def stream_records(stack: LocalStack, keys: set[str]) -> list[dict[str, Any]]:
    """Every record the table's stream holds for items whose PK is in `keys`, in order, as Lambda gets them."""
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.dynamodb.meta.endpoint_url, region_name="ap-south-1")
    arn = stack.dynamodb.describe_table(TableName=stack.config.table_name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(r for r in page["Records"] if r["dynamodb"]["Keys"]["PK"]["S"] in keys)
            iterator = page.get("NextShardIterator") if page["Records"] else None
    for record in records:  # the JSON shapes a Lambda event carries
        record["dynamodb"].pop("ApproximateCreationDateTime", None)
    return records


def replay(stack: LocalStack, records: list[dict[str, Any]]) -> Recording:
    """Deliver `records` again to the stack's own handler, then to a cold one (a new Lambda instance)."""
    event = {"Records": records}
    stack.stream_handler(event, LambdaContext())
    stack.stream_handler(event, LambdaContext())
    cold = Recording()
    live = Live(
        publisher=cold, pnl=PnlFeed(PnlEngine(), SystemClock()), risk=RiskWatch(lambda: stack.composition.ports)
    )
    make_handler(lambda: live)(event, LambdaContext())
    return cold


def test_a_max_loss_breach_exits_the_basket_once_even_when_the_stream_batch_is_replayed(stack: LocalStack) -> None:
    # Given a LIVE basket long 10 INFY at 1600.00 with a max loss of 100.00
    sub = user(stack)
    set_price(stack, "INFY", "1600.00")
    draft = create(sub, [leg("INFY", "BUY", 10)], risk={"maxLoss": "100.00"})
    execute(sub, draft["id"])
    settled(sub, draft["id"], "LIVE")
    wait_until(lambda: InstrumentRef("NSE", "INFY") in stack.pnl.held_instruments(), timeout=SETTLE_SECONDS)
    # When the price falls 10.00 (P&L -100.00: the limit is reached at equality)
    set_price(stack, "INFY", "1590.00")
    # Then the P&L engine's watch exits the basket: one exit order, the basket closes with the reason
    final = settled(sub, draft["id"], "CLOSED")
    assert final["statusMessage"] == "max loss 100.00 reached (P&L -100.00); exited automatically"
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("BUY", 10), ("SELL", 10)]
    # When the stream batches that crossed the limit are delivered again, warm and cold
    records = stream_records(stack, {f"BASKET#{draft['id']}", "MARK#NSE:INFY"})
    cold = replay(stack, records)
    # Then the cold engine saw the breach again, and still nothing more was placed
    assert any(e.kind == "pnl" and Decimal(e.payload["pnl"]) <= Decimal(-100) for e in cold.events)
    assert len(exchange_orders(stack, sub)) == 2
    assert len(basket(sub, draft["id"])["orders"]) == 2


def test_a_target_exits_the_basket(stack: LocalStack) -> None:
    # Given a LIVE basket short 5 TCS at 3100.00 with a target of 250.00 (and a max loss it never reaches)
    sub = user(stack)
    set_price(stack, "TCS", "3100.00")
    draft = create(sub, [leg("TCS", "SELL", 5)], risk={"maxLoss": "1000.00", "target": "250.00"})
    execute(sub, draft["id"])
    settled(sub, draft["id"], "LIVE")
    wait_until(lambda: InstrumentRef("NSE", "TCS") in stack.pnl.held_instruments(), timeout=SETTLE_SECONDS)
    # When the price moves in its favour, first short of the target, then past it
    set_price(stack, "TCS", "3060.00")  # +200.00
    set_price(stack, "TCS", "3049.90")  # +250.50
    # Then it is bought back once and closed with the reason
    final = settled(sub, draft["id"], "CLOSED")
    assert final["statusMessage"] == "target 250.00 reached (P&L 250.50); exited automatically"
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("SELL", 5), ("BUY", 5)]


def test_concurrent_limit_exits_place_one_exit(stack: LocalStack) -> None:
    # Given a LIVE basket already past a max loss it was just given (nothing has reacted yet)
    sub = user(stack)
    set_price(stack, "HDFCBANK", "1000.00")
    draft = create(sub, [leg("HDFCBANK", "BUY", 20)])
    execute(sub, draft["id"])
    live = settled(sub, draft["id"], "LIVE")
    set_price(stack, "HDFCBANK", "990.00")  # -200.00
    changed = invoke(
        "Mutation",
        "updateBasket",
        {"input": {"id": draft["id"], "expectedVersion": live["version"], "risk": {"maxLoss": "150.00"}}},
        sub,
    )
    assert changed["risk"]["maxLoss"] == "150.00"
    # When six watchers (Lambda instances on other shards) ask for the exit at the same moment
    results: list[Any] = []
    start = threading.Barrier(6)

    def race() -> None:
        start.wait()
        results.append(automation.exit_on_limit(stack.composition.ports, OwnerId(sub), BasketId(draft["id"])))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one exit order went to the exchange, and the basket closed
    final = settled(sub, draft["id"], "CLOSED")
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("BUY", 20), ("SELL", 20)]
    assert len(exchange_orders(stack, sub)) == 2
    assert final["statusMessage"].startswith("max loss 150.00 reached")


def test_a_second_exit_is_refused_while_the_first_exit_orders_are_working(stack: LocalStack) -> None:
    # Given a LIVE basket whose exit is under way: the exchange is slow to confirm the exit order
    sub = user(stack)
    draft = create(sub, [leg("SBIN", "SELL", 6)])
    execute(sub, draft["id"])
    settled(sub, draft["id"], "LIVE")
    # the entry's postbacks are in: a late one would take a turn of the exit itself (a legitimate race the exit
    # loop settles by storing the losing turn's orders CANCELLED, unsent), which is not what this test is about
    assert stack.exchange.flush_postbacks(60)
    # the exit order's answer is late and its postbacks are held, so it is still working when the user exits again
    # (a postback is read back from the order history, which the exchange answers at once)
    stack.exchange.hold_postbacks()
    stack.exchange.reply_delay = 2.0
    first: list[Any] = []
    exiting = threading.Thread(
        target=lambda: first.append(
            invoke("Mutation", "exitBasket", {"basketId": draft["id"], "clientRequestId": str(uuid.uuid4())}, sub)
        )
    )
    try:
        exiting.start()
        wait_until(lambda: any(o["side"] == "BUY" for o in basket(sub, draft["id"])["orders"]), timeout=SETTLE_SECONDS)
        # When the user exits again meanwhile (another clientRequestId)
        again = invoke("Mutation", "exitBasket", {"basketId": draft["id"], "clientRequestId": str(uuid.uuid4())}, sub)
    finally:
        exiting.join()
        stack.exchange.reply_delay = 0.0
        for payload in stack.exchange.resume_postbacks():  # delivered now, as a receiver back up would get them
            requests.post(f"{stack.url}/postback/kite", data=json.dumps(payload).encode(), timeout=30)
    # Then the second is refused, and the basket closes on the first exit's one order
    kind, message = refused(again)
    assert kind == "Conflict"
    # refused at its check (the exit's order is working) or, when it read the basket between the first exit's
    # versioned saves, at its own save: either way a Conflict that places nothing
    assert message.startswith(("basket is already exiting and 1 of its orders are still working", "basket ")), message
    assert "exiting" in message or "changed since version" in message, message
    assert first[0]["basket"]["status"] in ("EXITING", "CLOSED")
    final = settled(sub, draft["id"], "CLOSED")
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("SELL", 6), ("BUY", 6)]
    assert len(exchange_orders(stack, sub)) == 2


def scheduler_client(stack: LocalStack) -> Any:
    return boto3.client("scheduler", endpoint_url=stack.moto_url, region_name="ap-south-1")


def test_scheduled_entry_and_exit_fire_through_the_scheduler_lambda(stack: LocalStack) -> None:
    from local.scheduler import due_time

    # Given a DRAFT basket scheduled to enter at 09:20 and exit at 15:10 IST
    sub = user(stack)
    draft = create(sub, [leg("SBIN", "BUY", 7)], schedule={"entryAt": "09:20", "exitAt": "15:10"})
    assert draft["schedule"] == {"entryAt": "09:20", "exitAt": "15:10"}
    client = scheduler_client(stack)
    entry = client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"entry-{draft['id']}")
    leave = client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"exit-{draft['id']}")
    entry_at, exit_at = due_time(entry), due_time(leave)
    assert entry_at is not None and exit_at is not None
    assert entry["ScheduleExpressionTimezone"] == "Asia/Kolkata"
    assert (f"{entry_at:%H:%M}", f"{exit_at:%H:%M}") == ("09:20", "15:10")
    assert entry_at < exit_at and (exit_at - entry_at).days == 0
    assert '"action":"entry"' in entry["Target"]["Input"] and draft["id"] in entry["Target"]["Input"]
    # When the scheduler's clock reaches the entry time (the runner's clock is injected, nobody waits)
    fired = stack.scheduler.tick(entry_at)
    # Then the scheduler Lambda executed the basket, and the one-time schedule is gone
    assert {"action": "entry", "ownerId": sub, "basketId": draft["id"]}.items() <= fired[0].items()
    assert settled(sub, draft["id"], "LIVE")["orders"][0]["clientRequestId"] == f"scheduled-entry-{draft['id']}"
    assert stack.scheduler.tick(entry_at) == []
    assert len(exchange_orders(stack, sub)) == 1
    # When it reaches the exit time
    stack.scheduler.tick(exit_at)
    # Then the basket is exited and closed, saying why
    final = settled(sub, draft["id"], "CLOSED")
    assert final["statusMessage"] == "scheduled exit at 15:10 IST"
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("BUY", 7), ("SELL", 7)]
    # And a retried delivery of the same exit answers the first result and places nothing more
    again = schedules.handler(
        {"action": "exit", "ownerId": sub, "basketId": draft["id"], "scheduledAt": exit_at.isoformat()}, LambdaContext()
    )
    # (the first answer names the square-off order only if that turn placed it; when the entry's fill was
    # still arriving, a later turn did, and the first answer named none)
    assert again["basketId"] == draft["id"]
    assert set(again["orderIds"]) <= {sent(final)[1]["id"]}
    assert len(exchange_orders(stack, sub)) == 2


def test_changing_a_schedule_moves_its_timer_and_clearing_it_deletes_it(stack: LocalStack) -> None:
    from local.scheduler import due_time

    sub = user(stack)
    draft = create(sub, [leg("SBIN", "BUY", 1)], schedule={"entryAt": "10:00"})
    client = scheduler_client(stack)
    entry = due_time(client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"entry-{draft['id']}"))
    assert entry is not None and f"{entry:%H:%M}" == "10:00"
    update = {"id": draft["id"], "expectedVersion": draft["version"], "schedule": {"entryAt": "11:30"}}
    moved = invoke("Mutation", "updateBasket", {"input": update}, sub)
    entry = due_time(client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"entry-{draft['id']}"))
    assert entry is not None and f"{entry:%H:%M}" == "11:30"
    update = {"id": draft["id"], "expectedVersion": moved["version"], "schedule": {"entryAt": None}}
    invoke("Mutation", "updateBasket", {"input": update}, sub)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"entry-{draft['id']}")


def test_the_1515_square_off_closes_mis_positions_only(stack: LocalStack) -> None:
    # Given one user's basket holding an MIS and an NRML position, another user's MIS-only basket,
    # and an NRML-only basket
    dave, erin = user(stack), user(stack)
    mixed = create(dave, [leg("SBIN", "BUY", 10, product="MIS"), leg("HDFCBANK", "SELL", 5)])
    intraday = create(erin, [leg("RELIANCE", "SELL", 2, product="MIS")])
    carry = create(erin, [leg("INFY", "BUY", 4)])
    for sub, b in ((dave, mixed), (erin, intraday), (erin, carry)):
        execute(sub, b["id"])
        settled(sub, b["id"], "LIVE")
    # When the 15:15 IST square-off event arrives (no basket: every user's MIS positions), twice
    event = {"action": "squareoff", "scheduledAt": SystemClock().now().isoformat()}
    first = schedules.handler(event, LambdaContext())
    schedules.handler(event, LambdaContext())
    # Then only the MIS positions were squared off, once each
    assert {mixed["id"], intraday["id"]} <= set(first["baskets"])
    assert carry["id"] not in first["baskets"]
    wait_until(
        lambda: net(basket(dave, mixed["id"])) == {("SBIN", "MIS"): 0, ("HDFCBANK", "NRML"): -5}, timeout=SETTLE_SECONDS
    )
    kept = settled(dave, mixed["id"], "LIVE")
    assert kept["statusMessage"] == "MIS positions squared off at 15:15 IST"
    closed = settled(erin, intraday["id"], "CLOSED")
    assert net(closed) == {("RELIANCE", "MIS"): 0}
    assert net(settled(erin, carry["id"], "LIVE")) == {("INFY", "NRML"): 4}
    assert len(exchange_orders(stack, dave)) == 3
    assert len(exchange_orders(stack, erin)) == 3


def refused(result: Any) -> tuple[str, str]:
    assert isinstance(result, dict) and "error" in result, f"expected a refusal, got {result}"
    return result["error"]["type"], result["error"]["message"]


def test_another_user_cannot_set_limits_schedule_or_fire_schedules_on_a_basket(stack: LocalStack) -> None:
    # Given alice's LIVE basket
    alice, mallory = user(stack), user(stack)
    mine = create(alice, [leg("SBIN", "BUY", 1)])
    execute(alice, mine["id"])
    before = settled(alice, mine["id"], "LIVE")
    # When another user tries to give it limits, a schedule or a policy, or to fire its schedules
    for change in ({"risk": {"maxLoss": "1.00"}}, {"schedule": {"exitAt": "09:30"}}):
        update = {"id": mine["id"], "expectedVersion": before["version"], **change}
        kind, message = refused(invoke("Mutation", "updateBasket", {"input": update}, mallory))
        assert (kind, message) == ("NotFound", f"basket {mine['id']} not found")
    for action in ("exit", "squareoff"):
        answer = schedules.handler({"action": action, "ownerId": mallory, "basketId": mine["id"]}, LambdaContext())
        assert answer["error"]["type"] == "NotFound"
    # Then alice's basket is as it was and nothing was placed for it
    after = basket(alice, mine["id"])
    assert (after["version"], after["risk"], after["status"]) == (before["version"], before["risk"], "LIVE")
    assert len(exchange_orders(stack, alice)) == 1
    client = scheduler_client(stack)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"exit-{mine['id']}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"risk": {"maxLoss": "-500"}}, "max loss must be a positive amount in rupees, got -500"),
        ({"risk": {"maxLoss": "0"}}, "max loss must be a positive amount in rupees, got 0"),
        ({"risk": {"target": "12.345"}}, "target 12.345 has more than two decimals"),
        ({"risk": {"target": "lots"}}, 'risk.target must be a plain decimal like "123.45"'),
        ({"schedule": {"entryAt": "08:45"}}, "schedule.entryAt 08:45 is outside NSE hours (09:15-15:30 IST)"),
        ({"schedule": {"exitAt": "15:30"}}, "schedule.exitAt 15:30 is outside NSE hours (09:15-15:30 IST)"),
        ({"schedule": {"entryAt": "9.20"}}, "schedule.entryAt must be a time of day HH:MM (IST)"),
        (
            {"schedule": {"entryAt": "14:00", "exitAt": "10:00"}},
            "schedule.exitAt 10:00 must be after entryAt 14:00 (same day, IST)",
        ),
        ({"onPartialFailure": "SOMETIMES"}, "onPartialFailure must be one of EXIT_FILLED, KEEP_FILLED"),
    ],
)
def test_bad_limits_and_schedules_are_refused_and_write_nothing(
    stack: LocalStack, change: dict[str, Any], message: str
) -> None:
    sub = user(stack)
    draft = create(sub, [leg("SBIN", "BUY", 1)])
    update = {"id": draft["id"], "expectedVersion": draft["version"], **change}
    kind, text = refused(invoke("Mutation", "updateBasket", {"input": update}, sub))
    assert kind == "ValidationError"
    assert message in text
    created = invoke("Mutation", "createBasket", {"input": {"name": "x", **change}}, sub)
    assert refused(created)[0] == "ValidationError"
    assert basket(sub, draft["id"])["version"] == draft["version"]
    assert invoke("Query", "baskets", {}, sub)["items"] == [basket(sub, draft["id"]) | {"orders": [], "positions": []}]
    client = scheduler_client(stack)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_schedule(GroupName=SCHEDULE_GROUP, Name=f"entry-{draft['id']}")


def test_an_entry_time_is_refused_once_a_basket_has_been_executed(stack: LocalStack) -> None:
    sub = user(stack)
    draft = create(sub, [leg("SBIN", "BUY", 1)])
    execute(sub, draft["id"])
    live = settled(sub, draft["id"], "LIVE")
    update = {"id": draft["id"], "expectedVersion": live["version"], "schedule": {"entryAt": "10:00"}}
    kind, text = refused(invoke("Mutation", "updateBasket", {"input": update}, sub))
    assert (kind, text) == ("ValidationError", "basket is LIVE; schedule.entryAt can be set only on a DRAFT basket")


def test_the_local_scheduler_squares_off_at_1515_ist_once_on_trading_days_only(stack: LocalStack) -> None:
    from datetime import UTC, date, datetime, time

    from local.scheduler import LocalScheduler
    from trading.clock import IST
    from trading.rules.calendar import MarketCalendar

    # Given the runner over an empty group, with NSE's calendar (Monday 5 Jan 2026 a holiday) and a recording handler
    events: list[dict[str, Any]] = []
    holiday = date(2026, 1, 5)
    runner = LocalScheduler(
        scheduler_client(stack),
        f"squareoff-{uuid.uuid4().hex[:8]}",
        lambda event, _: events.append(event),
        SystemClock(),
        MarketCalendar(holidays=frozenset({holiday})),
    )
    runner.ensure_group()

    def at(day: date, hh: int, mm: int) -> datetime:
        return datetime.combine(day, time(hh, mm), IST).astimezone(UTC)

    friday, saturday, tuesday = date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 6)
    # When its clock passes 15:15 IST on a Friday, then a Saturday, a holiday, and late on a Tuesday
    assert runner.tick(at(friday, 15, 14)) == []
    assert runner.tick(at(friday, 15, 15)) == [{"action": "squareoff", "scheduledAt": "2026-01-02T09:45:00Z"}]
    assert runner.tick(at(friday, 15, 17)) == []
    assert runner.tick(at(saturday, 15, 15)) == []
    assert runner.tick(at(holiday, 15, 16)) == []
    assert runner.tick(at(tuesday, 15, 21)) == []  # the stack was down at 15:15: too late to act
    # Then the scheduler Lambda was called once, for the Friday
    assert events == [{"action": "squareoff", "scheduledAt": "2026-01-02T09:45:00Z"}]

"""The DynamoDB adapter against moto: round trips, isolation, conditions and request budgets."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from store import create_table, table_definition
from store.requests import DynamoRequests
from tests.builders import (
    NIFTY_CALL,
    NIFTY_LOT,
    NIFTY_PUT,
    NOW,
    OTHER_OWNER,
    OWNER,
    a_basket,
    a_fill,
    a_leg,
    a_strategy,
    an_instrument,
    an_order,
    placed,
)
from trading.clock import IST
from trading.errors import Conflict, NotFound, ValidationError
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, TradeId
from trading.model import BasketStatus, InstrumentRef, OrderStatus, OrderType, Product, Side
from trading.usecases.orders import apply_fill
from trading.valuation import PreviousClose

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from store import DynamoStore
    from tests.requests_counter import RequestCounter
    from trading.model import Basket, Fill, Order


def _stored_basket(store: DynamoStore, **overrides: object) -> Basket:
    basket = a_basket(a_strategy(), a_strategy(a_leg(lots=3, price=None, order_type=OrderType.MARKET)), **overrides)
    store.baskets.add(basket)
    return basket


def test_the_table_spec_creates_an_idempotent_streamed_table(dynamodb_client: DynamoDBClient) -> None:
    # Given a table created from the spec
    name = "Trading-spec-check"
    create_table(dynamodb_client, name)
    # When it is created again
    create_table(dynamodb_client, name)
    # Then it is one ACTIVE table with its stream, indexes and TTL
    table = dynamodb_client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "ByOwner",
        "ByOrderId",
        "ByBrokerOrder",
        "ByInstrument",
    }
    ttl = dynamodb_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"
    assert table_definition(name)["BillingMode"] == "PAY_PER_REQUEST"
    dynamodb_client.delete_table(TableName=name)


def test_a_basket_round_trips_exactly(store: DynamoStore) -> None:
    # Given a basket with strategies, legs, risk limits and a schedule
    basket = _stored_basket(store, status_message="note")
    # When it is read back
    got = store.baskets.get(OWNER, basket.id)
    # Then every field is equal, money exact and times aware UTC
    assert got == basket
    assert got.risk.target == Decimal("2500.50")
    assert got.created_at.tzinfo is UTC
    assert got.strategies[0].legs[0].price == Decimal("120.05")


def test_adding_a_basket_twice_is_a_conflict(store: DynamoStore) -> None:
    basket = _stored_basket(store)
    with pytest.raises(Conflict, match=f"basket {basket.id} already exists"):
        store.baskets.add(basket)


def test_an_order_round_trips_exactly(store: DynamoStore) -> None:
    # Given a stored SL order with a fractional multiplier
    order = an_order(
        order_type=OrderType.SL,
        price=Decimal("101.10"),
        trigger_price=Decimal("100.95"),
        multiplier=Decimal("0.5"),
        strategy_id="s1",
        leg_id="l1",
        status_message="queued",
    )
    store.orders.add_all([order])
    # When it is read back by id
    got = store.orders.get(OWNER, order.id)
    # Then it is the same order
    assert got == order
    assert got.updated_at.tzinfo is UTC


def test_a_placement_is_recorded_and_found_by_broker_order_id_or_tag(store: DynamoStore) -> None:
    # Given an order placed at the broker
    order = placed(an_order(), "260105000000123")
    store.orders.add_all([replace(order, broker_order_id=None)])
    store.orders.record_placement(order)
    # When a broker report arrives with or without our tag
    by_tag = store.orders.find("paper", BrokerOrderId("260105000000123"), order.id)
    by_broker_id = store.orders.find("paper", BrokerOrderId("260105000000123"), None)
    # Then both find the order, and nothing is found for another broker or an unknown id
    assert by_tag == order
    assert by_broker_id == order
    assert store.orders.get(OWNER, order.id).version == order.version
    assert store.orders.find("kite", BrokerOrderId("260105000000123"), None) is None
    assert store.orders.find("paper", BrokerOrderId("999"), "unknown-tag") is None


def test_fills_count_on_the_order_and_the_position(store: DynamoStore) -> None:
    # Given a two-lot order in a basket
    basket = _stored_basket(store)
    order = an_order(basket, strategy_id=basket.strategies[0].id)
    store.orders.add_all([order])
    first, second = a_fill(order, price=Decimal("120.05")), a_fill(order, price=Decimal("120.10"))
    # When both its fills are applied
    assert apply_fill(store, order, first)
    assert apply_fill(store, order, second)
    # Then the order and the position count both, exactly
    view = store.baskets.view(OWNER, basket.id)
    assert view.orders[0].filled_quantity == 2 * NIFTY_LOT
    assert view.orders[0].filled_value == Decimal("15609.75")
    [position] = view.positions
    assert position.key == order.position_key
    assert (position.buy_quantity, position.buy_value) == (2 * NIFTY_LOT, Decimal("15609.75"))
    assert (position.sell_quantity, position.sell_value) == (0, Decimal(0))
    assert position.seen_trades == {first.trade_id, second.trade_id}
    assert position.owner == OWNER


def test_applying_a_fill_is_one_read_and_one_transact_write(store: DynamoStore, count_requests: RequestCounter) -> None:
    order = an_order()
    store.orders.add_all([order])
    with count_requests.measure() as calls:
        applied = apply_fill(store, order, a_fill(order))
    assert applied
    assert calls == ["GetItem", "TransactWriteItems"]  # the position as stored, then the decision over it


def test_concurrent_distinct_fills_of_one_position_all_count_once(store: DynamoStore) -> None:
    # Given two orders on one position, and 8 distinct fills of them delivered at once
    basket = _stored_basket(store)
    strategy = basket.strategies[0].id
    buy = an_order(basket, strategy_id=strategy, quantity=4 * NIFTY_LOT)
    sell = an_order(basket, strategy_id=strategy, side=Side.SELL, quantity=4 * NIFTY_LOT)
    store.orders.add_all([buy, sell])
    fills = [
        a_fill(
            order,
            trade_id=TradeId(f"T{i}{order.side}"),
            price=Decimal(100 + i + (order.side is Side.SELL)),
            filled_at=NOW + timedelta(seconds=i),
        )
        for i in range(4)
        for order in (buy, sell)
    ]
    start = threading.Barrier(len(fills))

    def deliver(fill: Fill) -> bool:
        order = buy if fill.order_id == buy.id else sell
        start.wait()
        return apply_fill(store, replace(order), fill)

    # When they are all applied concurrently
    with ThreadPoolExecutor(len(fills)) as pool:
        results = list(pool.map(deliver, fills))
    # Then every fill counted once, and the position is the in-order walk of all eight
    assert results == [True] * len(fills)
    view = store.baskets.view(OWNER, basket.id)
    assert sorted(o.filled_quantity for o in view.orders) == [4 * NIFTY_LOT, 4 * NIFTY_LOT]
    [position] = view.positions
    assert (position.buy_quantity, position.sell_quantity, position.version) == (4 * NIFTY_LOT, 4 * NIFTY_LOT, 8)
    assert position.realised == 4 * NIFTY_LOT  # each lot bought at 100+i is sold at 101+i just after it
    assert position.seen_trades == {f.trade_id for f in fills}


def test_a_replayed_fill_writes_nothing(store: DynamoStore) -> None:
    # Given a fill already applied
    basket = _stored_basket(store)
    order = an_order(basket, side=Side.SELL)
    store.orders.add_all([order])
    fill = a_fill(order)
    apply_fill(store, order, fill)
    before = store.baskets.view(OWNER, basket.id)
    # When it is applied again
    applied = apply_fill(store, order, fill)
    # Then nothing changed
    assert applied is False
    after = store.baskets.view(OWNER, basket.id)
    assert after.positions == before.positions
    assert after.positions[0].sell_quantity == NIFTY_LOT
    assert after.orders[0].filled_quantity == NIFTY_LOT


def test_concurrent_replays_of_a_fill_count_once(store: DynamoStore) -> None:
    # Given one fill delivered by 8 concurrent postbacks
    basket = _stored_basket(store)
    order = an_order(basket)
    store.orders.add_all([order])
    fill = a_fill(order)
    start = threading.Barrier(8)

    def deliver() -> bool:
        start.wait()
        return apply_fill(store, order, fill)

    # When they all apply it
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: deliver(), range(8)))
    # Then exactly one applied it and it counted once
    assert results.count(True) == 1
    view = store.baskets.view(OWNER, basket.id)
    assert view.orders[0].filled_quantity == NIFTY_LOT
    assert view.positions[0].buy_quantity == NIFTY_LOT


def test_an_overfill_is_refused_and_writes_nothing(store: DynamoStore) -> None:
    # Given an order filled but for one lot
    basket = _stored_basket(store)
    order = an_order(basket)
    store.orders.add_all([order])
    apply_fill(store, order, a_fill(order, quantity=NIFTY_LOT + 1))
    # When a fill of a full lot arrives
    with pytest.raises(ValidationError, match="overfills order"):
        apply_fill(store, order, a_fill(order))
    # Then neither the order nor the position moved past the first fill
    view = store.baskets.view(OWNER, basket.id)
    assert view.orders[0].filled_quantity == NIFTY_LOT + 1
    assert view.positions[0].buy_quantity == NIFTY_LOT + 1


def test_a_basket_view_is_one_query(store: DynamoStore, count_requests: RequestCounter) -> None:
    # Given a basket with strategies, 4 orders on 4 positions, each filled
    basket = _stored_basket(store)
    strategy = basket.strategies[0].id
    orders = [
        an_order(basket, strategy_id=strategy),
        an_order(basket, strategy_id=strategy, instrument=NIFTY_PUT, side=Side.SELL),
        an_order(basket, product=Product.MIS),
        an_order(basket, instrument=InstrumentRef("NSE", "RELIANCE"), quantity=10),
    ]
    store.orders.add_all(orders)
    for order in orders:
        apply_fill(store, order, a_fill(order))
    # When the basket is viewed
    with count_requests.measure() as calls:
        view = store.baskets.view(OWNER, basket.id)
    # Then one Query returned all of it
    assert calls == ["Query"]
    assert view.basket == basket
    assert sorted(o.id for o in view.orders) == sorted(o.id for o in orders)
    assert len(view.positions) == 4


def test_a_page_of_orders_is_one_query(store: DynamoStore, count_requests: RequestCounter) -> None:
    basket = _stored_basket(store)
    store.orders.add_all([an_order(basket) for _ in range(5)])
    with count_requests.measure() as by_owner:
        store.orders.list(OWNER, 3, None)
    with count_requests.measure() as by_basket:
        store.orders.list(OWNER, 3, None, basket_id=basket.id, status=OrderStatus.PENDING)
    assert by_owner == ["Query"]
    assert by_basket == ["Query"]


def test_baskets_page_newest_first_across_pages(store: DynamoStore) -> None:
    # Given five baskets created a minute apart
    baskets = [_stored_basket(store, created_at=NOW + timedelta(minutes=i)) for i in range(5)]
    # When they are listed two at a time
    seen: list[BasketId] = []
    token = None
    for _ in range(5):
        page = store.baskets.list(OWNER, 2, token)
        seen += [b.id for b in page.items]
        token = page.next_token
        if token is None:
            break
    # Then every basket shows up once, newest first
    assert seen == [b.id for b in reversed(baskets)]


def test_orders_page_by_basket_and_status(store: DynamoStore) -> None:
    # Given three orders in a basket, one of them OPEN, and an order in another basket
    basket = _stored_basket(store)
    orders = [an_order(basket, created_at=NOW + timedelta(seconds=i)) for i in range(3)]
    orders[1].status = OrderStatus.OPEN
    store.orders.add_all([*orders, an_order()])
    # When they are listed by basket, by status, and by owner across pages
    in_basket = store.orders.list(OWNER, 10, None, basket_id=basket.id)
    open_ones = store.orders.list(OWNER, 10, None, status=OrderStatus.OPEN)
    first = store.orders.list(OWNER, 3, None)
    rest = store.orders.list(OWNER, 3, first.next_token)
    # Then each listing holds exactly what it should
    assert [o.id for o in in_basket.items] == sorted((o.id for o in orders), reverse=True)
    assert [o.id for o in open_ones.items] == [orders[1].id]
    assert len(first.items) == 3
    assert len(rest.items) == 1
    assert rest.next_token is None


@pytest.mark.parametrize("token", ["garbage", "!!!", "e30", "eyJQSyI6eyJTIjoieCJ9fQ", ""])
def test_a_bad_next_token_is_a_validation_error(store: DynamoStore, token: str) -> None:
    _stored_basket(store)
    with pytest.raises(ValidationError, match="invalid nextToken"):
        store.baskets.list(OWNER, 1, token)
    with pytest.raises(ValidationError, match="invalid nextToken"):
        store.orders.list(OWNER, 1, token)


def test_a_next_token_cannot_reach_another_users_items(store: DynamoStore) -> None:
    # Given a token from user A's listing
    for _ in range(2):
        _stored_basket(store)
    token = store.baskets.list(OWNER, 1, None).next_token
    assert token is not None
    # When user B pages with it
    # Then it is refused
    with pytest.raises(ValidationError, match="invalid nextToken"):
        store.baskets.list(OTHER_OWNER, 1, token)


def test_another_users_things_look_missing(store: DynamoStore) -> None:
    # Given user A's basket with an order
    basket = _stored_basket(store)
    order = an_order(basket)
    store.orders.add_all([order])
    missing_basket, missing_order = BasketId("nope"), OrderId("nope")
    # When user B reaches for them
    # Then B sees exactly what a missing basket or order looks like
    with pytest.raises(NotFound) as theirs:
        store.baskets.get(OTHER_OWNER, basket.id)
    with pytest.raises(NotFound) as missing:
        store.baskets.get(OTHER_OWNER, missing_basket)
    assert theirs.value.message == missing.value.message.replace(missing_basket, basket.id)
    with pytest.raises(NotFound, match=f"^basket {basket.id} not found$"):
        store.baskets.view(OTHER_OWNER, basket.id)
    with pytest.raises(NotFound, match=f"^order {order.id} not found$"):
        store.orders.get(OTHER_OWNER, order.id)
    with pytest.raises(NotFound, match=f"^order {missing_order} not found$"):
        store.orders.get(OTHER_OWNER, missing_order)
    # And B's listings never show A's things
    assert store.baskets.list(OTHER_OWNER, 10, None).items == []
    assert store.orders.list(OTHER_OWNER, 10, None).items == []
    assert store.orders.list(OTHER_OWNER, 10, None, basket_id=basket.id).items == []


def test_a_stale_basket_save_or_delete_is_a_conflict(store: DynamoStore) -> None:
    # Given a basket saved once by another writer
    basket = _stored_basket(store)
    fresh = store.baskets.get(OWNER, basket.id)
    fresh.name, fresh.version = "renamed", 2
    store.baskets.save(fresh, 1)
    # When a writer still at version 1 saves or deletes
    basket.status, basket.version = BasketStatus.EXECUTING, 2
    with pytest.raises(Conflict, match=f"basket {basket.id} changed since version 1; re-read it and retry"):
        store.baskets.save(basket, 1)
    with pytest.raises(Conflict):
        store.baskets.delete(basket, 1)
    # Then the newer write stands, and deletes at the right version
    assert store.baskets.get(OWNER, basket.id).name == "renamed"
    store.baskets.delete(fresh, 2)
    with pytest.raises(NotFound):
        store.baskets.get(OWNER, basket.id)


def test_an_order_save_is_versioned_and_leaves_fills_alone(store: DynamoStore) -> None:
    # Given an order with a fill applied behind the reader's back
    order = an_order()
    store.orders.add_all([order])
    apply_fill(store, order, a_fill(order))
    # When the reader saves a status change
    order.status, order.status_message, order.version = OrderStatus.OPEN, None, 2
    order.broker_order_id = BrokerOrderId("260105000000777")
    store.orders.save(order, 1)
    # Then the status moved, the fill still counts, and the order is findable by broker id
    got = store.orders.get(OWNER, order.id)
    assert (got.status, got.version, got.filled_quantity) == (OrderStatus.OPEN, 2, NIFTY_LOT)
    assert store.orders.find("paper", BrokerOrderId("260105000000777"), None) == got
    # And a save at the old version is refused
    with pytest.raises(Conflict, match=f"order {order.id} changed since version 1"):
        store.orders.save(order, 1)


def test_instruments_round_trip_and_search(store: DynamoStore, count_requests: RequestCounter) -> None:
    # Given 60 NFO strikes and one NSE equity
    calls = [
        an_instrument(token=i, tradingsymbol=f"NIFTY26JAN{24000 + 50 * i}CE", strike=Decimal(24000 + 50 * i))
        for i in range(60)
    ]
    equity = an_instrument(
        token=738561,
        exchange="NSE",
        tradingsymbol="RELIANCE",
        name="RELIANCE INDUSTRIES",
        instrument_type="EQ",
        segment="NSE",
        lot_size=1,
        tick_size=Decimal("0.1"),
        expiry=None,
        strike=None,
        freeze_quantity=None,
    )
    with count_requests.measure() as writes:
        store.instruments.put_instruments([*calls, equity])
    # Then they were written 25 at a time and read back exactly
    assert writes == ["BatchWriteItem"] * 3
    assert store.instruments.get(calls[7].ref) == calls[7]
    assert store.instruments.get(equity.ref) == equity
    assert store.instruments.get(InstrumentRef("NSE", "NOPE")) is None
    assert len(store.instruments.search("NIFTY26JAN", "NFO", 10)) == 10
    assert store.instruments.search("RELI", None, 5) == [equity]
    assert len(store.instruments.search("NIFTY26JAN24", None, 100)) == 20


def test_marks_are_read_in_one_batch_and_never_go_back_in_time(
    store: DynamoStore, count_requests: RequestCounter
) -> None:
    # Given marks for two instruments, one of them updated with a stale tick
    assert store.marks.put_mark(NIFTY_CALL, Decimal("121.35"), NOW)
    assert store.marks.put_mark(NIFTY_PUT, Decimal("97.10"), NOW)
    assert not store.marks.put_mark(NIFTY_CALL, Decimal("119.00"), NOW - timedelta(seconds=1))
    # When their last prices are read with an unmarked instrument
    with count_requests.measure() as calls:
        prices = store.marks.last_prices([NIFTY_CALL, NIFTY_PUT, NIFTY_CALL, InstrumentRef("NSE", "TCS")])
    # Then the latest prices come back exactly, from one BatchGetItem
    assert prices == {NIFTY_CALL: Decimal("121.35"), NIFTY_PUT: Decimal("97.10")}
    assert calls == ["BatchGetItem"]


def test_a_marks_previous_close_comes_back_with_its_price_in_one_read(
    store: DynamoStore, count_requests: RequestCounter
) -> None:
    # Given a mark with the previous close the feed had, another without, and a stale one with another close
    assert store.marks.put_mark(NIFTY_CALL, Decimal("121.35"), NOW, Decimal("118.40"))
    assert store.marks.put_mark(NIFTY_PUT, Decimal("97.10"), NOW)
    assert not store.marks.put_mark(NIFTY_CALL, Decimal("119.00"), NOW - timedelta(seconds=1), Decimal("1.00"))
    # When they are read as quotes
    with count_requests.measure() as calls:
        quotes = store.marks.quotes([NIFTY_CALL, NIFTY_PUT, InstrumentRef("NSE", "TCS")])
    # Then each price comes with its close as of the IST day the mark was taken, from one BatchGetItem
    assert quotes == {
        NIFTY_CALL: (Decimal("121.35"), PreviousClose(Decimal("118.40"), NOW.astimezone(IST).date())),
        NIFTY_PUT: (Decimal("97.10"), None),
    }
    assert calls == ["BatchGetItem"]


def test_a_request_id_is_claimed_once_and_then_replays_its_result(store: DynamoStore) -> None:
    crid = ClientRequestId("req-1")
    # Given a first request that claimed the id and finished
    assert store.requests.claim(OWNER, crid, "placeOrder", "fp-1") is None
    store.requests.complete(OWNER, crid, {"orderIds": ["o1"], "basketId": "b1"})
    # When it is repeated, or the id is reused for something else
    repeat = store.requests.claim(OWNER, crid, "placeOrder", "fp-1")
    # Then the repeat gets the first result and the reuse is refused
    assert repeat == {"orderIds": ["o1"], "basketId": "b1"}
    with pytest.raises(Conflict, match="clientRequestId req-1 was already used for a different request"):
        store.requests.claim(OWNER, crid, "placeOrder", "fp-2")
    # And the same id is independent for another user
    assert store.requests.claim(OTHER_OWNER, crid, "placeOrder", "fp-2") is None


def test_a_request_still_running_is_a_conflict_and_a_released_one_can_be_retried(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    requests = DynamoRequests(dynamodb_client, table_name, wait_seconds=0.3, poll_seconds=0.05)
    crid = ClientRequestId("req-2")
    assert requests.claim(OWNER, crid, "executeBasket", "fp") is None
    with pytest.raises(Conflict, match="request req-2 is still being processed; retry later"):
        requests.claim(OWNER, crid, "executeBasket", "fp")
    requests.release(OWNER, crid)
    assert requests.claim(OWNER, crid, "executeBasket", "fp") is None


def test_concurrent_claims_have_exactly_one_claimer(store: DynamoStore) -> None:
    # Given 8 identical requests racing for one id
    crid = ClientRequestId("req-3")
    start = threading.Barrier(8)

    def request() -> dict[str, object] | None:
        start.wait()
        prior = store.requests.claim(OWNER, crid, "placeOrder", "fp")
        if prior is None:
            store.requests.complete(OWNER, crid, {"orderIds": ["o1"]})
        return prior

    # When they all run
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: request(), range(8)))
    # Then one did the work and the rest got its result
    assert results.count(None) == 1
    assert [r for r in results if r is not None] == [{"orderIds": ["o1"]}] * 7


def test_fills_of_an_unplaced_order_still_find_their_position_key(store: DynamoStore) -> None:
    # Given a sell order with no strategy
    basket = _stored_basket(store)
    order: Order = an_order(basket, side=Side.SELL, strategy_id=None)
    store.orders.add_all([order])
    # When it fills
    apply_fill(store, order, a_fill(order, trade_id=TradeId("T1")))
    # Then its position is keyed without a strategy
    [position] = store.baskets.view(OWNER, basket.id).positions
    assert position.key.strategy_id is None
    assert position.seen_trades == {TradeId("T1")}

"""Angel One and Shoonya mappings: symbols from the Kite instrument master, enums, statuses, recorded rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from brokers.shoonya import mapping as noren
from brokers.smartapi import mapping as angel
from tests.contract.venues import CE, recorded
from trading.errors import ValidationError
from trading.model import InstrumentRef, OrderStatus, OrderType, Product, Side, Validity, Variety
from trading.model.instrument import Instrument
from trading.ports import OrderRequest

SBIN = Instrument(779521, "NSE", "SBIN", "STATE BANK OF INDIA", "EQ", "NSE", 1, Decimal("0.05"))
BSE_SBIN = replace(SBIN, exchange="BSE", segment="BSE")
FUT = replace(CE, tradingsymbol="NIFTY26DECFUT", instrument_type="FUT", segment="NFO-FUT", strike=None)
HALF_STRIKE = replace(CE, tradingsymbol="USDINR26DEC82.5CE", name="USDINR", exchange="CDS", strike=Decimal("82.50"))


def ticket(**changes: object) -> OrderRequest:
    base = OrderRequest(
        instrument=InstrumentRef("NFO", CE.tradingsymbol),
        side=Side.SELL,
        quantity=65,
        order_type=OrderType.SL,
        product=Product.MIS,
        variety=Variety.REGULAR,
        validity=Validity.IOC,
        price=Decimal("310.05"),
        trigger_price=Decimal("312.00"),
        tag="ord-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("instrument", "angel_symbol", "noren_symbol"),
    [
        (SBIN, "SBIN-EQ", "SBIN-EQ"),
        (BSE_SBIN, "SBIN", "SBIN"),
        (CE, "NIFTY29DEC2626000CE", "NIFTY29DEC26C26000"),
        (replace(CE, instrument_type="PE"), "NIFTY29DEC2626000PE", "NIFTY29DEC26P26000"),
        (FUT, "NIFTY29DEC26FUT", "NIFTY29DEC26F"),
        (HALF_STRIKE, "USDINR29DEC2682.5CE", "USDINR29DEC26C82.5"),
    ],
)
def test_symbols_are_built_from_the_master_fields(instrument: Instrument, angel_symbol: str, noren_symbol: str) -> None:
    assert angel.angel_symbol(instrument) == angel_symbol
    assert noren.shoonya_symbol(instrument) == noren_symbol


def test_angels_symbol_token_is_the_exchange_token_inside_kites_instrument_token() -> None:
    assert angel.angel_token(SBIN) == "3045"  # SBIN's NSE token
    assert angel.angel_token(CE) == str(13100546 // 256)


def test_a_derivative_without_expiry_cannot_be_named() -> None:
    with pytest.raises(ValidationError, match="expiry"):
        angel.angel_symbol(replace(CE, expiry=None))
    with pytest.raises(ValidationError, match="expiry"):
        noren.shoonya_symbol(replace(CE, expiry=None))


def test_an_angel_stop_loss_ticket_in_angels_terms() -> None:
    params = angel.order_params(ticket(), CE)
    assert params == {
        "variety": "STOPLOSS",
        "tradingsymbol": "NIFTY29DEC2626000CE",
        "symboltoken": "51174",
        "transactiontype": "SELL",
        "exchange": "NFO",
        "ordertype": "STOPLOSS_LIMIT",
        "producttype": "INTRADAY",
        "duration": "IOC",
        "price": "310.05",
        "triggerprice": "312.00",
        "squareoff": "0",
        "stoploss": "0",
        "quantity": "65",
        "ordertag": "ord-1",
    }
    assert angel.order_params(ticket(variety=Variety.AMO), CE)["variety"] == "AMO"
    market = angel.order_params(ticket(order_type=OrderType.MARKET, price=None, trigger_price=None), CE)
    assert (market["variety"], market["ordertype"], market["price"]) == ("NORMAL", "MARKET", "0")


@pytest.mark.parametrize(
    ("product", "angel_product", "noren_product"),
    [(Product.MIS, "INTRADAY", "I"), (Product.NRML, "CARRYFORWARD", "M"), (Product.CNC, "DELIVERY", "C")],
)
def test_products(product: Product, angel_product: str, noren_product: str) -> None:
    assert angel.order_params(ticket(product=product), CE)["producttype"] == angel_product
    assert noren.order_arguments(ticket(product=product), CE)["product_type"] == noren_product


@pytest.mark.parametrize(
    ("order_type", "angel_type", "noren_type"),
    [
        (OrderType.MARKET, "MARKET", "MKT"),
        (OrderType.LIMIT, "LIMIT", "LMT"),
        (OrderType.SL, "STOPLOSS_LIMIT", "SL-LMT"),
        (OrderType.SL_M, "STOPLOSS_MARKET", "SL-MKT"),
    ],
)
def test_order_types(order_type: OrderType, angel_type: str, noren_type: str) -> None:
    assert angel.order_params(ticket(order_type=order_type), CE)["ordertype"] == angel_type
    assert noren.order_arguments(ticket(order_type=order_type), CE)["price_type"] == noren_type


def test_a_shoonya_ticket_in_norens_terms() -> None:
    assert noren.order_arguments(ticket(), CE) == {
        "buy_or_sell": "S",
        "product_type": "I",
        "exchange": "NFO",
        "tradingsymbol": "NIFTY29DEC26C26000",
        "quantity": 65,
        "discloseqty": 0,
        "price_type": "SL-LMT",
        "price": "310.05",
        "trigger_price": "312.00",
        "retention": "IOC",
        "amo": "NO",
        "remarks": "ord-1",
    }
    limit = noren.order_arguments(ticket(order_type=OrderType.LIMIT, variety=Variety.AMO), CE)
    assert (limit["trigger_price"], limit["amo"]) == (None, "YES")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("open", OrderStatus.OPEN),
        ("complete", OrderStatus.COMPLETE),
        ("cancelled", OrderStatus.CANCELLED),
        ("rejected", OrderStatus.REJECTED),
        ("trigger pending", OrderStatus.TRIGGER_PENDING),
        ("open pending", OrderStatus.PENDING),
        ("validation pending", OrderStatus.PENDING),
        ("put order req received", OrderStatus.PENDING),
        ("after market order req received", OrderStatus.PENDING),
        ("modified", OrderStatus.OPEN),
        ("modify pending", OrderStatus.OPEN),
        ("modify validation pending", OrderStatus.OPEN),
        ("not modified", OrderStatus.OPEN),
        ("cancel pending", OrderStatus.OPEN),
        ("not cancelled", OrderStatus.OPEN),
        ("Trigger Pending", OrderStatus.TRIGGER_PENDING),
        ("something new", OrderStatus.PENDING),
    ],
)
def test_angel_statuses(text: str, status: OrderStatus) -> None:
    assert angel.status_from_angel(text) is status


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("PENDING", OrderStatus.PENDING),
        ("OPEN", OrderStatus.OPEN),
        ("Open", OrderStatus.OPEN),
        ("TRIGGER_PENDING", OrderStatus.TRIGGER_PENDING),
        ("COMPLETE", OrderStatus.COMPLETE),
        ("CANCELED", OrderStatus.CANCELLED),
        ("REJECTED", OrderStatus.REJECTED),
        ("REJECT", OrderStatus.REJECTED),
        ("INVALID_STATUS_TYPE", OrderStatus.PENDING),
    ],
)
def test_shoonya_statuses(text: str, status: OrderStatus) -> None:
    assert noren.status_from_noren(text) is status


def test_a_recorded_angel_rejection_keeps_angels_reason() -> None:
    row = recorded("angel")["orderBook"]["rejected"]["data"][0]
    update = angel.order_update_from_angel(row)
    assert update.status is OrderStatus.REJECTED
    assert update.message == "Your order has been rejected due to Insufficient Funds."
    assert (update.filled_quantity, update.average_price) == (0, None)
    assert update.at == datetime(2026, 11, 23, 5, 5, tzinfo=UTC)


def test_a_recorded_shoonya_rejection_keeps_norens_reason_and_time() -> None:
    row = recorded("shoonya")["singleOrderHistory"]["rejected"][0]
    update = noren.order_update_from_noren(row)
    assert update.status is OrderStatus.REJECTED
    assert update.message is not None
    assert update.message.startswith("RED:Margin Shortfall")
    assert update.at == datetime(2026, 11, 23, 5, 5, tzinfo=UTC)  # from norentm: no exch_tm on a rejection


def test_norens_placeholder_times_are_no_times() -> None:
    assert noren.noren_time("01-01-1980 00:00:00") is None
    assert noren.noren_time("00:00:00 01-01-1980") is None
    assert noren.noren_time("19:59:32 13-12-2020") == datetime(2020, 12, 13, 14, 29, 32, tzinfo=UTC)
    assert noren.noren_time("13-12-2020 19:59:32") == datetime(2020, 12, 13, 14, 29, 32, tzinfo=UTC)


def test_an_angel_fill_time_is_today_in_ist() -> None:
    from tests.contract.test_adapter_contract import our_order

    trade = recorded("angel")["tradeBook"]["filled"]["data"][0]
    order = our_order(trade["orderid"], "angel")
    fill = angel.fill_from_angel(trade, order, date(2026, 11, 23))
    assert (fill.quantity, fill.price, fill.trade_id) == (65, Decimal("299.95"), "51174001")
    assert fill.filled_at == datetime(2026, 11, 23, 5, 2, 40, tzinfo=UTC)

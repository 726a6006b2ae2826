"""Object, input and enum types. Amounts and prices are decimal strings (see `Decimal` below)."""

from __future__ import annotations

import strawberry

from schema.aws import AwsCognitoUserPools, AWSDate, AWSDateTime, AwsIam
from schema.leg_risk import LegRisk, LegRiskInput, StrategyRisk, StrategyRiskInput
from trading import model
from trading.model import account

strawberry.enum(model.Side, description="BUY or SELL")
strawberry.enum(model.OrderType, description="MARKET, LIMIT, SL (stop-loss limit) or SL_M (stop market)")
strawberry.enum(model.Product, description="MIS (intraday), NRML (F&O carry) or CNC (delivery)")
strawberry.enum(model.Variety, description="REGULAR during market hours, AMO outside them")
strawberry.enum(model.Validity, description="DAY or IOC")
strawberry.enum(model.BasketStatus, description="DRAFT → EXECUTING → LIVE → EXITING → CLOSED, or FAILED")
strawberry.enum(
    model.PartialFailurePolicy,
    description="When some legs of an execution are refused: EXIT_FILLED (default) stops placing, exits what "
    "went through as exitBasket does (the basket is EXITING meanwhile) and, once flat, marks the basket FAILED with "
    "the reason; KEEP_FILLED places every leg and keeps what "
    "filled in a LIVE basket (its limits and schedule still apply; statusMessage lists the refused legs)",
)
strawberry.enum(
    model.OrderStatus,
    description="PENDING → OPEN | TRIGGER_PENDING → COMPLETE | CANCELLED | REJECTED; never moves backwards",
)

DECIMAL = 'Decimal string, exact (e.g. "123.45")'
AVERAGE = "Average price as a decimal string, rounded half-even to 4 places"
# Types a publish mutation (IAM) returns, and everything nested in them, carry both auth modes.
BOTH = [AwsIam(), AwsCognitoUserPools()]
RUPEES = "Rupees as a decimal string, rounded half-even to 2 places"
PROTECTION = (
    'Market protection of MARKET and SL_M orders: "AUTO" (the broker\'s automatic protection) or a percentage '
    'above 0 up to 100 as a decimal string ("2.5"). The order fills no worse than the last price plus (BUY) or '
    "minus (SELL) that percentage; the rest waits as a LIMIT at that price."
)


@strawberry.type(description="The signed-in user")
class User:
    id: strawberry.ID = strawberry.field(description="Cognito `sub`; pass it as `ownerId` to subscriptions")
    username: str


@strawberry.type
class Leg:
    id: strawberry.ID
    exchange: str
    tradingsymbol: str
    side: model.Side
    lots: int = strawberry.field(description="Number of lots; quantity = lots x the instrument's lot size")
    order_type: model.OrderType
    product: model.Product
    price: str | None = strawberry.field(description=DECIMAL)
    trigger_price: str | None = strawberry.field(description=DECIMAL)
    market_protection: str = strawberry.field(description=PROTECTION)
    risk: LegRisk | None = strawberry.field(description="Null: no managed exit")


@strawberry.type
class Strategy:
    id: strawberry.ID
    name: str
    legs: list[Leg]
    risk: StrategyRisk | None = strawberry.field(description="Null: none")


LIMITS = (
    "A LIVE basket whose P&L falls to -maxLoss or rises to target is exited once, automatically, "
    "and its statusMessage says which limit was reached"
)
SCHEDULE = (
    "Entry and exit times of day, IST, as HH:MM inside the session of every exchange the basket trades "
    "(NSE/NFO 09:15-15:30). Each fires at its next occurrence on a trading day (exit: the first after the "
    "entry): the entry executes a DRAFT basket, the exit exits a LIVE one; otherwise it does nothing"
)


@strawberry.type(description=LIMITS)
class RiskLimits:
    max_loss: str | None = strawberry.field(description=RUPEES + "; a positive amount")
    target: str | None = strawberry.field(description=RUPEES + "; a positive amount")


@strawberry.type(description=SCHEDULE)
class Schedule:
    entry_at: str | None
    exit_at: str | None


@strawberry.type(directives=BOTH)
class Order:
    id: strawberry.ID
    basket_id: strawberry.ID
    strategy_id: strawberry.ID | None
    leg_id: strawberry.ID | None
    client_request_id: str
    broker: str
    broker_order_id: str | None
    exchange: str
    tradingsymbol: str
    side: model.Side
    quantity: int
    filled_quantity: int
    pending_quantity: int
    average_price: str | None = strawberry.field(description=AVERAGE)
    order_type: model.OrderType
    product: model.Product
    variety: model.Variety
    validity: model.Validity
    price: str | None = strawberry.field(description=DECIMAL)
    trigger_price: str | None = strawberry.field(description=DECIMAL)
    market_protection: str = strawberry.field(description=PROTECTION)
    status: model.OrderStatus
    status_message: str | None
    version: int
    created_at: AWSDateTime
    updated_at: AWSDateTime


@strawberry.type(
    description="Net position per (basket, strategy, instrument, product); values include the multiplier",
    directives=BOTH,
)
class Position:
    basket_id: strawberry.ID
    strategy_id: strawberry.ID | None
    exchange: str
    tradingsymbol: str
    product: model.Product
    multiplier: str = strawberry.field(description=DECIMAL)
    buy_quantity: int
    sell_quantity: int
    net_quantity: int
    buy_value: str = strawberry.field(description=DECIMAL)
    sell_value: str = strawberry.field(description=DECIMAL)
    buy_price: str = strawberry.field(description=AVERAGE)
    sell_price: str = strawberry.field(description=AVERAGE)
    average_price: str = strawberry.field(
        description=AVERAGE + ". Kite's average_price: the open quantity's average cost; 0 when flat"
    )
    value: str = strawberry.field(description=DECIMAL + " Kite's value: sellValue - buyValue")
    overnight_quantity: int = strawberry.field(description="Net quantity carried in from before today (IST)")
    day_buy_quantity: int
    day_buy_value: str = strawberry.field(description=DECIMAL)
    day_buy_price: str = strawberry.field(description=AVERAGE)
    day_sell_quantity: int
    day_sell_value: str = strawberry.field(description=DECIMAL)
    day_sell_price: str = strawberry.field(description=AVERAGE)


@strawberry.type
class Basket:
    id: strawberry.ID
    name: str
    status: model.BasketStatus
    status_message: str | None
    version: int = strawberry.field(description="Pass as `expectedVersion` when changing the basket")
    strategies: list[Strategy]
    risk: RiskLimits
    schedule: Schedule
    on_partial_failure: model.PartialFailurePolicy
    broker: account.BrokerName | None = strawberry.field(
        description="The broker its orders go to; null: the deployment's default (PAPER locally, KITE on AWS)"
    )
    orders: list[Order]
    positions: list[Position]
    created_at: AWSDateTime
    updated_at: AWSDateTime


@strawberry.type
class BasketPage:
    items: list[Basket]
    next_token: str | None


@strawberry.type
class OrderPage:
    items: list[Order]
    next_token: str | None


@strawberry.type
class FillPage:
    items: list[Fill]
    next_token: str | None


@strawberry.type
class Execution:
    basket: Basket
    orders: list[Order]


@strawberry.type(
    description="pnl = (sellValue - buyValue) + netQuantity x lastPrice x multiplier (Kite's formula) = "
    "realised + unrealised, by average cost in exchange time order; unmarked: pnl = realised, unrealised 0. "
    "Exact until shown: pnl and realised are rounded once (half-even, paise), unrealised is their difference",
    directives=BOTH,
)
class PositionPnl:
    position: Position
    last_price: str | None = strawberry.field(description=DECIMAL + " Null until a mark exists.")
    close_price: str | None = strawberry.field(
        description=DECIMAL + " The previous trading day's close (Kite's close_price: the feed's ohlc.close, as "
        "today's marks bring it); null when not known"
    )
    pnl: str = strawberry.field(description=RUPEES)
    realised: str = strawberry.field(description=RUPEES)
    unrealised: str = strawberry.field(description=RUPEES)
    m2m: str | None = strawberry.field(
        description=RUPEES + ". Kite's m2m, the day's P&L: pnl with the overnight quantity valued at the previous "
        "close and without what was realised before the day; "
        "null while unmarked, or when a quantity was carried overnight and the close is not known"
    )


@strawberry.type
class BasketPnl:
    basket_id: strawberry.ID
    pnl: str = strawberry.field(description=RUPEES)
    realised: str = strawberry.field(description=RUPEES)
    unrealised: str = strawberry.field(description=RUPEES)
    as_of: AWSDateTime | None = strawberry.field(
        default=None, description="The latest mark or fill this P&L reflects (UTC), as onPnl's asOf; null before either"
    )
    positions: list[PositionPnl]


@strawberry.type
class Instrument:
    token: int = strawberry.field(description="Kite instrument_token")
    exchange: str
    tradingsymbol: str
    name: str
    instrument_type: str
    segment: str
    lot_size: int
    tick_size: str = strawberry.field(description=DECIMAL)
    expiry: AWSDate | None
    strike: str | None = strawberry.field(description=DECIMAL)
    freeze_quantity: int | None


@strawberry.type(description="One trade of an order at the exchange", directives=BOTH)
class Fill:
    trade_id: strawberry.ID
    order_id: strawberry.ID
    basket_id: strawberry.ID
    exchange: str
    tradingsymbol: str
    side: model.Side
    quantity: int
    price: str = strawberry.field(description=DECIMAL)
    filled_at: AWSDateTime = strawberry.field(description="When the exchange filled it (the broker's time)")
    recorded_at: AWSDateTime | None = strawberry.field(
        default=None, description="When basketgraph recorded the fill (UTC); null for fills older than the field"
    )


@strawberry.type(description="An order changed (onOrderUpdate)", directives=BOTH)
class OrderEvent:
    event_id: strawberry.ID = strawberry.field(description="Unique per change; a client may see it once only")
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    order: Order


@strawberry.type(description="A fill was applied (onFill)", directives=BOTH)
class FillEvent:
    event_id: strawberry.ID
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    fill: Fill


@strawberry.type(
    description="A basket's status or status message changed (onBasketUpdate): e.g. EXITING → CLOSED, or FAILED "
    "with the reason and the positions still open",
    directives=BOTH,
)
class BasketEvent:
    event_id: strawberry.ID
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    status: model.BasketStatus
    status_message: str | None
    version: int
    updated_at: AWSDateTime


@strawberry.type(description="A basket's P&L moved (onPnl); coalesced to a few per second", directives=BOTH)
class PnlEvent:
    event_id: strawberry.ID
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    pnl: str = strawberry.field(description=RUPEES)
    realised: str = strawberry.field(description=RUPEES)
    unrealised: str = strawberry.field(description=RUPEES)
    as_of: AWSDateTime
    positions: list[PositionPnl]


@strawberry.input
class LegInput:
    exchange: str = strawberry.field(description="NSE, BSE, NFO, BFO, MCX or CDS")
    tradingsymbol: str
    side: model.Side
    lots: int
    order_type: model.OrderType = model.OrderType.MARKET
    product: model.Product = model.Product.NRML
    price: str | None = strawberry.field(default=None, description=DECIMAL + " Required for LIMIT and SL.")
    trigger_price: str | None = strawberry.field(default=None, description=DECIMAL + " Required for SL and SL_M.")
    market_protection: str = strawberry.field(default="AUTO", description=PROTECTION)
    risk: LegRiskInput | None = strawberry.field(default=None, description="Null: no managed exit")


@strawberry.input
class StrategyInput:
    name: str
    legs: list[LegInput] = strawberry.field(default_factory=list)
    risk: StrategyRiskInput | None = strawberry.field(default=None, description="Null: none")


@strawberry.input(description=LIMITS)
class RiskLimitsInput:
    max_loss: str | None = strawberry.field(default=None, description='Rupees, positive, at most paise, e.g. "5000.00"')
    target: str | None = strawberry.field(default=None, description='Rupees, positive, at most paise, e.g. "2500.50"')


@strawberry.input(description=SCHEDULE + ". Setting it replaces the previous one; nulls clear it")
class ScheduleInput:
    entry_at: str | None = strawberry.field(default=None, description="HH:MM, IST")
    exit_at: str | None = strawberry.field(default=None, description="HH:MM, IST")


@strawberry.input
class CreateBasketInput:
    name: str
    strategies: list[StrategyInput] = strawberry.field(default_factory=list)
    risk: RiskLimitsInput | None = None
    schedule: ScheduleInput | None = None
    on_partial_failure: model.PartialFailurePolicy | None = strawberry.field(
        default=None, description="EXIT_FILLED by default"
    )
    broker: account.BrokerName | None = strawberry.field(
        default=None, description="Where its orders go (connect it first); the deployment's default if null"
    )


@strawberry.input
class UpdateBasketInput:
    id: strawberry.ID
    expected_version: int
    name: str | None = None
    risk: RiskLimitsInput | None = None
    schedule: ScheduleInput | None = None
    on_partial_failure: model.PartialFailurePolicy | None = strawberry.field(default=None, description="DRAFT only")
    broker: account.BrokerName | None = strawberry.field(default=None, description="DRAFT only")


@strawberry.input
class AddStrategyInput:
    basket_id: strawberry.ID
    expected_version: int
    name: str
    legs: list[LegInput] = strawberry.field(default_factory=list)
    risk: StrategyRiskInput | None = strawberry.field(default=None, description="Null: none")


@strawberry.input
class UpdateStrategyInput:
    basket_id: strawberry.ID
    expected_version: int
    strategy_id: strawberry.ID
    name: str


@strawberry.input
class AddLegInput:
    basket_id: strawberry.ID
    expected_version: int
    strategy_id: strawberry.ID
    leg: LegInput


@strawberry.input
class UpdateLegInput:
    basket_id: strawberry.ID
    expected_version: int
    strategy_id: strawberry.ID
    leg_id: strawberry.ID
    leg: LegInput


@strawberry.input
class PlaceOrderInput:
    basket_id: strawberry.ID = strawberry.field(description="A LIVE basket the order belongs to")
    client_request_id: str = strawberry.field(description="Idempotency key: a repeat returns the first result")
    exchange: str
    tradingsymbol: str
    side: model.Side
    quantity: int
    strategy_id: strawberry.ID | None = None
    order_type: model.OrderType = model.OrderType.MARKET
    product: model.Product = model.Product.NRML
    variety: model.Variety = model.Variety.REGULAR
    validity: model.Validity = model.Validity.DAY
    price: str | None = strawberry.field(default=None, description=DECIMAL)
    trigger_price: str | None = strawberry.field(default=None, description=DECIMAL)
    market_protection: str = strawberry.field(default="AUTO", description=PROTECTION)


@strawberry.input(
    description="New terms for a working (OPEN or TRIGGER_PENDING) order; a field left null keeps its value"
)
class ModifyOrderInput:
    id: strawberry.ID = strawberry.field(description="Our order id")
    client_request_id: str = strawberry.field(description="Idempotency key: a repeat returns the order, sends nothing")
    order_type: model.OrderType | None = None
    quantity: int | None = strawberry.field(
        default=None, description="The new total quantity (more than is filled; at most the freeze quantity)"
    )
    price: str | None = strawberry.field(default=None, description=DECIMAL + " For LIMIT and SL.")
    trigger_price: str | None = strawberry.field(default=None, description=DECIMAL + " For SL and SL_M.")
    validity: model.Validity | None = None
    market_protection: str | None = strawberry.field(default=None, description=PROTECTION + " Null: unchanged.")

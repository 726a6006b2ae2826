"""Root fields. On AppSync each query and mutation is a direct Lambda resolver, the publish mutations
are NONE-data-source resolvers that echo their arguments, and subscriptions are AppSync's own.

Every resolver body here hands the field to `info.context["invoke"]`, which the local emulator
supplies; AppSync never runs this code.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from schema.account_risk import AccountLimitsInput, AccountRisk
from schema.accounts import BrokerAccount, BrokerLogin
from schema.aws import AWSJSON, AwsCognitoUserPools, AwsIam, AwsSubscribe
from schema.margins import BasketMargin, Funds
from schema.risk_state import RiskState, RiskStateEvent
from schema.types import (
    AddLegInput,
    AddStrategyInput,
    Basket,
    BasketEvent,
    BasketPage,
    BasketPnl,
    CreateBasketInput,
    Execution,
    FillEvent,
    FillPage,
    Instrument,
    ModifyOrderInput,
    Order,
    OrderEvent,
    OrderPage,
    PlaceOrderInput,
    PnlEvent,
    Position,
    UpdateBasketInput,
    UpdateLegInput,
    UpdateStrategyInput,
    User,
)
from trading.model import OrderStatus
from trading.model.account import BrokerName
from trading.model.margin import Segment


def _lambda(info: strawberry.Info) -> Any:
    return info.context["invoke"](info)


@strawberry.type(directives=[AwsCognitoUserPools()])
class Query:
    @strawberry.field(description="The caller")
    def me(self, info: strawberry.Info) -> User:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="The caller's baskets, newest first")
    def baskets(self, info: strawberry.Info, limit: int = 20, next_token: str | None = None) -> BasketPage:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="One basket with its strategies, orders and positions")
    def basket(self, info: strawberry.Info, id: strawberry.ID) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="The caller's orders, newest first; filter by basket and/or status")
    def orders(
        self,
        info: strawberry.Info,
        basket_id: strawberry.ID | None = None,
        status: OrderStatus | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> OrderPage:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The basket's trade book: its fills, newest order first, each page in exchange time (newest first)"
    )
    def fills(
        self, info: strawberry.Info, basket_id: strawberry.ID, limit: int = 50, next_token: str | None = None
    ) -> FillPage:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field
    def order(self, info: strawberry.Info, id: strawberry.ID) -> Order:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field
    def positions(self, info: strawberry.Info, basket_id: strawberry.ID) -> list[Position]:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="Basket P&L at the latest marks, in total and per position")
    def pnl(self, info: strawberry.Info, basket_id: strawberry.ID) -> BasketPnl:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(
        description="A basket's risk now: each leg with a managed exit, its active stop-loss and target, trailing "
        "peak, distance to each at the latest mark, and re-entries used"
    )
    def risk_state(self, info: strawberry.Info, basket_id: strawberry.ID) -> RiskState:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="The caller's broker accounts: status, user id at the broker, token expiry")
    def broker_accounts(self, info: strawberry.Info) -> list[BrokerAccount]:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(
        description="What executing the basket would block (initial, final after hedges and positions, per leg), its "
        "charges, the funds available and the shortfall, at its broker's estimate now"
    )
    def basket_margin(self, info: strawberry.Info, basket_id: strawberry.ID) -> BasketMargin:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="The caller's margin at a broker (default: the deployment's) in one segment")
    def funds(
        self, info: strawberry.Info, broker: BrokerName | None = None, segment: Segment = Segment.EQUITY
    ) -> Funds:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(
        description="An account's daily limits, today's P&L and orders across its baskets, how close each limit is, "
        "and its lock with who set it and when"
    )
    def account_risk(self, info: strawberry.Info, broker: BrokerName) -> AccountRisk:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.field(description="Instruments whose trading symbol starts with `search`")
    def instruments(
        self, info: strawberry.Info, search: str, exchange: str | None = None, limit: int = 20
    ) -> list[Instrument]:
        return _lambda(info)  # type: ignore[no-any-return]


@strawberry.type(directives=[AwsCognitoUserPools()])
class Mutation:
    @strawberry.mutation
    def create_basket(self, info: strawberry.Info, input: CreateBasketInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Rename, or change risk limits or schedule; needs the current version")
    def update_basket(self, info: strawberry.Info, input: UpdateBasketInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Delete a DRAFT basket")
    def delete_basket(self, info: strawberry.Info, id: strawberry.ID, expected_version: int) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def add_strategy(self, info: strawberry.Info, input: AddStrategyInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Rename a strategy")
    def update_strategy(self, info: strawberry.Info, input: UpdateStrategyInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def remove_strategy(
        self,
        info: strawberry.Info,
        basket_id: strawberry.ID,
        expected_version: int,
        strategy_id: strawberry.ID,
    ) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def add_leg(self, info: strawberry.Info, input: AddLegInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def update_leg(self, info: strawberry.Info, input: UpdateLegInput) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def remove_leg(
        self, info: strawberry.Info, basket_id: strawberry.ID, expected_version: int, leg_id: strawberry.ID
    ) -> Basket:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Place every leg of a DRAFT basket (BUY legs first). A repeat with the same "
        "clientRequestId returns the first result and places nothing."
    )
    def execute_basket(self, info: strawberry.Info, basket_id: strawberry.ID, client_request_id: str) -> Execution:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Cancel working orders and square off every open position at market")
    def exit_basket(self, info: strawberry.Info, basket_id: strawberry.ID, client_request_id: str) -> Execution:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Place one order in a LIVE basket (sliced above the freeze quantity)")
    def place_order(self, info: strawberry.Info, input: PlaceOrderInput) -> Order:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Change a working order's price, trigger, quantity, type or validity at its broker; the change "
        "appears on onOrderUpdate. MARKET and SL_M carry market protection (automatic unless given)."
    )
    def modify_order(self, info: strawberry.Info, input: ModifyOrderInput) -> Order:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation
    def cancel_order(self, info: strawberry.Info, id: strawberry.ID) -> Order:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Cancel every working order of a basket; returns the cancelled orders")
    def cancel_all_orders(self, info: strawberry.Info, basket_id: strawberry.ID) -> list[Order]:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Start connecting a broker account: returns the broker's login URL. Pass your own broker "
        "app's apiKey and apiSecret (the secret is kept in the secret store), or neither to use this deployment's."
    )
    def connect_broker(
        self,
        info: strawberry.Info,
        broker: BrokerName,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> BrokerLogin:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Finish the login: the token the broker's login redirected back with (Kite: request_token; "
        "Angel One: auth_token; PAPER: paper-<your me.id>). Exchanged for a session kept in the secret store."
    )
    def complete_broker_login(
        self,
        info: strawberry.Info,
        broker: BrokerName,
        request_token: str,
        broker_user_id: str | None = None,
    ) -> BrokerAccount:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Forget the session and your app secret; the account stays, DISCONNECTED")
    def disconnect_broker(self, info: strawberry.Info, broker: BrokerName) -> BrokerAccount:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Set the account's daily loss limit, daily profit target and maximum orders a day (IST). "
        "Reaching the loss limit or the target exits every LIVE basket of the account and refuses new orders "
        "(TradingHalted) until the next trading day; the order cap refuses the orders past it."
    )
    def set_account_limits(self, info: strawberry.Info, input: AccountLimitsInput) -> AccountRisk:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Lock the account at once: cancel working orders, square off every LIVE basket with protected "
        "MARKET orders, refuse new orders (TradingHalted) until resetKillSwitch. Engaging it again exits what is left."
    )
    def kill_switch(self, info: strawberry.Info, broker: BrokerName, reason: str | None = None) -> AccountRisk:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Lift the kill switch (a daily limit the day's P&L is still past keeps the account locked)"
    )
    def reset_kill_switch(self, info: strawberry.Info, broker: BrokerName) -> AccountRisk:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Publish an order change to onOrderUpdate (IAM only: the stream handler calls it). "
        "payload: {order: Order as JSON}",
        directives=[AwsIam()],
    )
    def publish_order_update(
        self,
        info: strawberry.Info,
        event_id: strawberry.ID,
        owner_id: strawberry.ID,
        basket_id: strawberry.ID,
        payload: AWSJSON,
    ) -> OrderEvent | None:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Publish a fill to onFill (IAM only). payload: {fill: Fill as JSON}", directives=[AwsIam()]
    )
    def publish_fill(
        self,
        info: strawberry.Info,
        event_id: strawberry.ID,
        owner_id: strawberry.ID,
        basket_id: strawberry.ID,
        payload: AWSJSON,
    ) -> FillEvent | None:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Publish a basket's P&L to onPnl (IAM only). payload: the PnlEvent's other fields as JSON",
        directives=[AwsIam()],
    )
    def publish_pnl(
        self,
        info: strawberry.Info,
        event_id: strawberry.ID,
        owner_id: strawberry.ID,
        basket_id: strawberry.ID,
        payload: AWSJSON,
    ) -> PnlEvent | None:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Publish a basket's status change to onBasketUpdate (IAM only). payload: the BasketEvent's "
        "other fields as JSON",
        directives=[AwsIam()],
    )
    def publish_basket_update(
        self,
        info: strawberry.Info,
        event_id: strawberry.ID,
        owner_id: strawberry.ID,
        basket_id: strawberry.ID,
        payload: AWSJSON,
    ) -> BasketEvent | None:
        return _lambda(info)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Publish a leg's risk state to onRiskState (IAM only). payload: the RiskStateEvent's other "
        "fields as JSON",
        directives=[AwsIam()],
    )
    def publish_risk_state(
        self,
        info: strawberry.Info,
        event_id: strawberry.ID,
        owner_id: strawberry.ID,
        basket_id: strawberry.ID,
        payload: AWSJSON,
    ) -> RiskStateEvent | None:
        return _lambda(info)  # type: ignore[no-any-return]


async def _never() -> AsyncGenerator[None, None]:
    """Subscriptions are delivered by AppSync (locally: the emulator's pub/sub), never by this resolver."""
    raise RuntimeError("subscriptions are served by AppSync or the local emulator's real-time endpoint")
    yield


@strawberry.type(directives=[AwsCognitoUserPools()])
class Subscription:
    @strawberry.subscription(
        description="Every change of the caller's orders (optionally one basket's). ownerId must be your `me.id`.",
        directives=[AwsSubscribe(mutations=["publishOrderUpdate"])],
    )
    async def on_order_update(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[OrderEvent | None, None]:
        async for item in _never():
            yield item

    @strawberry.subscription(
        description="Every fill of the caller's orders (optionally one basket's)",
        directives=[AwsSubscribe(mutations=["publishFill"])],
    )
    async def on_fill(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[FillEvent | None, None]:
        async for item in _never():
            yield item

    @strawberry.subscription(
        description="The caller's basket P&L as marks and fills move it, a few times a second at most",
        directives=[AwsSubscribe(mutations=["publishPnl"])],
    )
    async def on_pnl(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[PnlEvent | None, None]:
        async for item in _never():
            yield item

    @strawberry.subscription(
        description="Every status change of the caller's baskets (optionally one): LIVE, EXITING, CLOSED, or FAILED "
        "with the reason (an exit that cannot finish names the positions still open)",
        directives=[AwsSubscribe(mutations=["publishBasketUpdate"])],
    )
    async def on_basket_update(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[BasketEvent | None, None]:
        async for item in _never():
            yield item

    @strawberry.subscription(
        description="The caller's legs' risk as it moves (optionally one basket's): a stop trailed or moved to cost, "
        "a level reached, a re-entry; sent when a leg's state changes (its latest per stream batch), not at every mark",
        directives=[AwsSubscribe(mutations=["publishRiskState"])],
    )
    async def on_risk_state(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[RiskStateEvent | None, None]:
        async for item in _never():
            yield item

"""Execution: the placement saga of a DRAFT basket, hedges first, with its partial-failure policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from trading.model import PartialFailurePolicy
from trading.usecases.exits import ExitPorts, run_exit
from trading.usecases.idempotency import Placed, check_client_request_id, fingerprint_of, read_back, run_once
from trading.usecases.margins import check_margin
from trading.usecases.orders import place_all
from trading.usecases.tickets import OrderTicket, checked_orders, instrument_of
from trading.usecases.trading_gate import GatePorts, admit_orders, refuse_if_halted
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from trading.ids import BasketId, OwnerId
    from trading.model import Basket, Order
    from trading.usecases.idempotency import Execution


class ExecutionPorts(ExitPorts, GatePorts, Protocol):
    """What an exit reaches (a partly failed execution is unwound by the exit loop), and the account's order gate."""


def execute_basket(ports: ExecutionPorts, owner: OwnerId, basket_id: BasketId, client_request_id: str) -> Execution:
    """Place every leg of a DRAFT basket, BUY legs before SELL legs (hedges first, less margin).

    A basket whose final margin (hedges offset, positions considered) exceeds the available funds is refused with
    InsufficientMargin before anything is written or sent.

    Under EXIT_FILLED, the legs after a refused one are not sent, and the basket is EXITING (unwinding) through
    the exit loop until what went through is flat; then it ends FAILED with the refusal.
    """

    def prepare() -> tuple[Basket, list[Order]]:
        basket = ports.baskets.get(owner, basket_id)
        refuse_if_halted(ports, owner, basket.broker)
        basket.start_execution()  # state checks only; saved in run()
        crid = check_client_request_id(client_request_id)
        broker = ports.brokers.for_owner(owner, basket.broker)
        now = ports.clock.now()
        orders: list[Order] = []
        for strategy, leg in basket.placement_order():
            instrument = instrument_of(ports.instruments, leg.instrument.exchange, leg.instrument.tradingsymbol)
            ticket = OrderTicket.for_leg(strategy.id, leg, instrument)
            orders.extend(checked_orders(ports, ticket, owner, basket.id, crid, broker.name, now))
        check_margin(broker, orders)  # the last check: it asks the broker, after every rule of ours passed
        return basket, orders

    def run(plan: tuple[Basket, list[Order]]) -> Placed:
        basket, orders = plan
        if orders:
            admit_orders(ports, owner, orders[0].broker, len(orders))  # before the first write
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, bump(basket))
        ports.orders.add_all(orders)
        exit_filled = basket.on_partial_failure is PartialFailurePolicy.EXIT_FILLED
        rejected = place_all(ports, owner, orders, stop_on_refusal=exit_filled)
        accepted = [o for o in orders if o.broker_order_id]
        basket.finish_execution(rejected, len(accepted))
        basket.updated_at = ports.clock.now()
        ports.baskets.save(basket, bump(basket))
        exits = run_exit(ports, owner, basket.id, orders[0].client_request_id) if basket.unwinding else []
        return Placed(basket.id, tuple(o.id for o in orders + exits))

    fingerprint = fingerprint_of("executeBasket", basket_id)
    placed = run_once(ports, owner, client_request_id, "executeBasket", fingerprint, prepare, run)
    return read_back(ports, owner, placed)

"""Requests that carry a clientRequestId: the id's check, the run-once-or-replay, and what a run leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from trading.errors import ValidationError
from trading.ids import BasketId, ClientRequestId, OrderId

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ids import OwnerId
    from trading.model import Order
    from trading.ports import Baskets, BasketView, Requests

MAX_CLIENT_REQUEST_ID = 64

P = TypeVar("P")


class RequestPorts(Protocol):
    @property
    def requests(self) -> Requests: ...


class ReadBackPorts(Protocol):
    @property
    def baskets(self) -> Baskets: ...


@dataclass(frozen=True)
class Placed:
    """What a request did, as its idempotency record keeps it: the basket and the orders it placed."""

    basket_id: BasketId
    order_ids: tuple[OrderId, ...]

    def record(self) -> dict[str, Any]:
        """The stored form (the `Requests` port keeps JSON)."""
        return {"basketId": self.basket_id, "orderIds": list(self.order_ids)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Placed:
        return cls(BasketId(record["basketId"]), tuple(OrderId(i) for i in record["orderIds"]))


@dataclass(frozen=True)
class Execution:
    """The basket as it stands after the request, and the orders this request placed."""

    view: BasketView
    orders: list[Order]


def check_client_request_id(client_request_id: str) -> ClientRequestId:
    value = client_request_id.strip()
    if not value or len(value) > MAX_CLIENT_REQUEST_ID or not value.isprintable():
        raise ValidationError(f"clientRequestId must be 1-{MAX_CLIENT_REQUEST_ID} printable characters")
    return ClientRequestId(value)


def run_once(
    ports: RequestPorts,
    owner: OwnerId,
    client_request_id: str,
    operation: str,
    fingerprint: str,
    prepare: Callable[[], P],
    run: Callable[[P], Placed],
) -> Placed:
    """Run a request once per clientRequestId; a repeat returns the first result and does nothing."""
    crid = check_client_request_id(client_request_id)
    prior = ports.requests.find(owner, crid, operation, fingerprint)
    if prior is not None:
        return Placed.from_record(prior)  # a repeat: the first result, even if the basket has moved on since
    plan = prepare()  # validates everything before the first write
    prior = ports.requests.claim(owner, crid, operation, fingerprint)
    if prior is not None:
        return Placed.from_record(prior)
    try:
        result = run(plan)
    except BaseException:
        ports.requests.release(owner, crid)
        raise
    ports.requests.complete(owner, crid, result.record())
    return result


def read_back(ports: ReadBackPorts, owner: OwnerId, placed: Placed) -> Execution:
    """The basket now, with the orders the request placed (a consistent read of its collection)."""
    view = ports.baskets.view(owner, placed.basket_id)
    orders = {o.id: o for o in view.orders}
    return Execution(view, [orders[i] for i in placed.order_ids if i in orders])


def fingerprint_of(operation: str, *parts: object) -> str:
    """What makes two requests with one clientRequestId the same request."""
    return f"{operation}:" + "|".join(str(p) for p in parts)

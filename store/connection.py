"""`DynamoStore` (every repository over one table) and `connect`, which builds it once per composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from store.account_risk import DynamoAccountRisk
from store.baskets import DynamoBaskets
from store.deliveries import DynamoDeliveries
from store.instruments import DynamoInstruments
from store.leg_risks import DynamoLegRisks
from store.marks import DynamoMarks
from store.orders import DynamoOrders
from store.requests import DynamoRequests
from store.spec import DEFAULT_TABLE_NAME, DELIVERY_TTL_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.ports import Clock


@dataclass(frozen=True)
class DynamoStore:
    """Every repository over one table; build it once per composition root with `connect`."""

    baskets: DynamoBaskets
    orders: DynamoOrders
    instruments: DynamoInstruments
    marks: DynamoMarks
    requests: DynamoRequests
    deliveries: DynamoDeliveries
    leg_risks: DynamoLegRisks
    table_name: str
    account_risk: DynamoAccountRisk


def connect(
    table_name: str | None = None,
    client: DynamoDBClient | None = None,
    clock: Clock | None = None,
    *,
    delivery_ttl: int = DELIVERY_TTL_SECONDS,
) -> DynamoStore:
    """The repositories over `table_name` (default "Trading").

    Parameters
    ----------
    table_name
        The table; the entrypoints' is their settings' `table_name`.
    client
        A DynamoDB client; by default one from the environment's region and endpoint.
    clock
        What stamps `updatedAt` on fills; the system clock by default.
    delivery_ttl
        Seconds a delivery marker lives (`store.spec.DELIVERY_TTL_SECONDS`).
    """
    name = table_name or DEFAULT_TABLE_NAME
    client = client or boto3.client("dynamodb")
    return DynamoStore(
        baskets=DynamoBaskets(client, name),
        orders=DynamoOrders(client, name, clock),
        instruments=DynamoInstruments(client, name),
        marks=DynamoMarks(client, name),
        requests=DynamoRequests(client, name),
        deliveries=DynamoDeliveries(client, name, ttl=delivery_ttl),
        leg_risks=DynamoLegRisks(client, name),
        table_name=name,
        account_risk=DynamoAccountRisk(client, name),
    )

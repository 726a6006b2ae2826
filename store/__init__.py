"""DynamoDB adapter: the single-table spec and the repositories behind `trading.ports`."""

from store.repositories import (
    DynamoBaskets,
    DynamoInstruments,
    DynamoMarks,
    DynamoOrders,
    DynamoRequests,
    DynamoStore,
    connect,
)
from store.spec import create_table, table_definition

__all__ = [
    "DynamoBaskets",
    "DynamoInstruments",
    "DynamoMarks",
    "DynamoOrders",
    "DynamoRequests",
    "DynamoStore",
    "connect",
    "create_table",
    "table_definition",
]

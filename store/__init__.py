"""DynamoDB adapter: the single-table spec and the repositories behind `trading.ports`."""

from store.baskets import DynamoBaskets
from store.connection import DynamoStore, connect
from store.instruments import DynamoInstruments
from store.marks import DynamoMarks
from store.orders import DynamoOrders
from store.requests import DynamoRequests
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

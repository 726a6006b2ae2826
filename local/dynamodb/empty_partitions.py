"""moto leaves an empty partition behind for every key it ever looked at; the embedded table drops them.

moto's `Table.items` is a `defaultdict(dict)` from partition key to its items by sort key. Reading a key
that is not there (`GetItem`, a condition check, an update's read of the current item) creates an empty
partition for it, and deleting a partition's last item leaves the partition there, empty. For the stack
that is one key object and one empty dict for every delivery marker its TTL deleted (each marker is its own
partition, ~20 a second with 8 LIVE baskets) and for every idempotency or marker lookup that missed: the
slow growth of the stack's memory in a long soak, while the table's items stayed flat. Index Queries and the
TTL sweep also walk every partition, empty ones too. Here a read of a missing partition creates nothing and
a delete that empties a partition removes it; no API answers differently.
"""

from __future__ import annotations

import functools
from typing import Any

from local.dynamodb.speedups import _for_written_moto


@_for_written_moto
def no_empty_partitions() -> None:
    """`Table.get_item` creates no partition and `Table.delete_item` removes the one it emptied. Idempotent."""
    from moto.dynamodb.models.table import Table

    get_item, delete_item = Table.get_item, Table.delete_item
    if getattr(get_item, "_no_empty_partitions", False):
        return

    @functools.wraps(get_item)
    def get(self: Table, hash_key: Any, range_key: Any = None, *args: Any, **kwargs: Any) -> Any:
        if range_key and hash_key not in self.items:
            return None  # what moto answers, without creating the partition on the way
        return get_item(self, hash_key, range_key, *args, **kwargs)

    @functools.wraps(delete_item)
    def delete(self: Table, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            drop_if_empty(self, hash_key)

    get._no_empty_partitions = True  # type: ignore[attr-defined]
    Table.get_item = get  # type: ignore[method-assign]
    Table.delete_item = delete  # type: ignore[method-assign]


def drop_if_empty(table: Any, hash_key: Any) -> None:
    """Remove `table`'s partition `hash_key` if it holds no item (a table with a sort key only)."""
    if table.has_range_key and hash_key in table.items and not table.items[hash_key]:
        del table.items[hash_key]

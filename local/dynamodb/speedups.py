"""Speed-ups of moto's DynamoDB for the local stack, applied only to the moto version they were written for.

Each one replaces a moto internal (a method, a module's `copy`) with a cheaper equivalent; on another
moto version those internals may differ, so each is skipped there with a warning and moto runs as it
ships. Every speed-up relies on `atomicity.serialize_dynamodb_requests` (requests one at a time).
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.dynamodb.responses import DynamoHandler

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

# The moto these speed-ups were written and tested against; pinned exactly in pyproject's `local` extra.
WRITTEN_FOR_MOTO = "5.2.5"


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def _for_written_moto(speedup: Callable[[], None]) -> Callable[[], bool]:
    """Run `speedup` only on `WRITTEN_FOR_MOTO`; returns whether it was applied."""

    @functools.wraps(speedup)
    def guarded() -> bool:
        installed = installed_moto_version()
        if installed != WRITTEN_FOR_MOTO:
            log.warning(
                "moto %s is installed, not %s: skipping the %s speed-up", installed, WRITTEN_FOR_MOTO, speedup.__name__
            )
            return False
        speedup()
        return True

    return guarded


@_for_written_moto
def fast_partition_queries() -> None:
    """Let a Query read only the items of its partition (moto sorts every item of the table for each
    Query, which makes the local stack slow down as its table grows). Idempotent.

    Safe because requests are serialized (`atomicity.serialize_dynamodb_requests`): the narrowed `all_items`
    is visible to this one request only.
    """
    from moto.dynamodb.models.table import Table

    query = Table.query
    if getattr(query, "_partitioned", False):
        return

    def candidates(self: Table, hash_key: Any, index_name: str | None) -> list[Any] | None:
        """The items a Query can match, or None to let moto look at all of them."""
        if hash_key is None:
            return None
        if index_name is None:
            bucket = self.items.get(hash_key)
            return list(bucket.values()) if isinstance(bucket, dict) else None
        index = next((i for i in self.indexes + self.global_indexes if i.name == index_name), None)
        partition = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None) if index else None
        if partition is None:
            return None
        found = []
        for bucket in self.items.values():
            for item in bucket.values() if isinstance(bucket, dict) else [bucket]:
                value = item.attrs.get(partition)
                if value is not None and value == hash_key:
                    found.append(item)
        return found

    @functools.wraps(query)
    def partitioned(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        found = candidates(self, hash_key, index_name)
        if found is None:
            return query(self, hash_key, *args, **kwargs)
        self.all_items = lambda: found  # type: ignore[method-assign]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    partitioned._partitioned = True  # type: ignore[attr-defined]
    Table.query = partitioned  # type: ignore[method-assign]


# Reads whose results are plain DynamoDB JSON already; moto's generic serializer walks the service
# model for every attribute, which dominates the local stack's read latency (stream GetRecords too).
_PLAIN_READS = frozenset({"Query", "GetItem", "BatchGetItem", "Scan"})


@_for_written_moto
def fast_read_responses() -> None:
    """Serialize read results with `json.dumps` instead of moto's model-driven serializer. Idempotent."""
    import json

    from moto.dynamodb.responses import DynamoResult

    serialized = DynamoHandler.serialized
    if getattr(serialized, "_fast", False):
        return

    @functools.wraps(serialized)
    def fast(self: DynamoHandler, action_result: Any) -> Any:
        result = getattr(action_result, "result", None)
        if isinstance(action_result, DynamoResult) and isinstance(result, dict) and self._get_action() in _PLAIN_READS:
            try:
                body = json.dumps(result)
            except TypeError:
                return serialized(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, body
        return serialized(self, action_result)

    fast._fast = True  # type: ignore[attr-defined]
    DynamoHandler.serialized = fast  # type: ignore[method-assign, assignment]

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    streams_serialized = DynamoDBStreamsHandler.serialized

    def epoch(value: Any) -> float:
        """Timestamps as AWS's JSON protocol sends them (stream records' ApproximateCreationDateTime)."""
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    @functools.wraps(streams_serialized)
    def fast_records(self: Any, action_result: Any) -> Any:
        result = getattr(action_result, "result", None)
        if isinstance(result, dict) and self._get_action() == "GetRecords":
            try:
                body = json.dumps(result, default=epoch)
            except TypeError:
                return streams_serialized(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, body
        return streams_serialized(self, action_result)

    DynamoDBStreamsHandler.serialized = fast_records  # type: ignore[method-assign]


class _TableCheckpoint:
    """Stands in for moto's deep copy of a whole table at the start of a transaction."""

    def __init__(self, table: Any) -> None:
        self.table = table


@_for_written_moto
def fast_transactions() -> None:
    """Let TransactWriteItems back up only the items it touches. Idempotent.

    moto deep-copies every table a transaction names (all items and all stream records) so it can
    roll back, which makes each fill cost more as the local table grows. Here the copy is replaced
    by a copy of the transaction's own items and the stream's length; a cancelled transaction
    restores exactly those. Safe because requests are serialized (`atomicity.serialize_dynamodb_requests`).
    """
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from local.dynamodb.empty_partitions import drop_if_empty  # here: that module uses this one's guard

    transact = DynamoDBBackend.transact_write_items
    if getattr(transact, "_fast", False):
        return
    checkpointing = threading.local()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table) and getattr(checkpointing, "active", False):
            return _TableCheckpoint(value)
        return copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(**{**vars(copy), "deepcopy": deepcopy})  # type: ignore[attr-defined, assignment]

    def key_of(table: Any, attributes: Any) -> tuple[Any, Any] | None:
        try:
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError):
            return None  # moto rejects the request before writing anything
        return hash_value, range_value

    @functools.wraps(transact)
    def fast(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, copy of the item or None)
        streams: dict[str, tuple[Any, int]] = {}
        for entry in transact_items:
            op = next(iter(entry.values()), None) if isinstance(entry, dict) else None
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if op is None or table is None:
                continue
            key = key_of(table, op.get("Key") or op.get("Item") or {})
            if key is not None:
                backups.append((table, *key, copy.deepcopy(table.get_item(*key))))
            if table.stream_shard is not None and table.name not in streams:
                streams[table.name] = (table, len(table.stream_shard.items))
        checkpointing.active = True
        try:
            return transact(self, transact_items)
        except BaseException:
            for name, value in list(self.tables.items()):
                if isinstance(value, _TableCheckpoint):
                    self.tables[name] = value.table
            for table, hash_value, range_value, item in reversed(backups):
                if range_value is None:
                    table.items.pop(hash_value, None)
                    if item is not None:
                        table.items[hash_value] = item
                else:
                    table.items[hash_value].pop(range_value, None)
                    if item is not None:
                        table.items[hash_value][range_value] = item
                    drop_if_empty(table, hash_value)
            for table, length in streams.values():
                del table.stream_shard.items[length:]
            raise
        finally:
            checkpointing.active = False

    fast._fast = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = fast  # type: ignore[method-assign]


@_for_written_moto
def fast_query_results() -> None:
    """Let a Query answer with its items as they are, not deep copies of them. Idempotent.

    moto's `Table.query` deep-copies every item it returns, then the handler turns them into plain dicts
    and JSON, all under the request lock (`atomicity.serialize_dynamodb_requests`), so no write can change
    an item between the Query and its answer; projections and filters build new items or only read. The
    copy is a second walk of every attribute of every item read, for nothing.
    """
    import copy
    import types

    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.table import Table

    query = Table.query
    if getattr(query, "_uncopied", False):
        return
    querying = threading.local()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if getattr(querying, "active", False) and type(value) is list:
            return list(value)  # the Query's results: answered before any write can touch them
        return copy.deepcopy(value, memo)

    table_module.copy = types.SimpleNamespace(**{**vars(copy), "deepcopy": deepcopy})  # type: ignore[attr-defined, assignment]

    @functools.wraps(query)
    def uncopied(self: Table, *args: Any, **kwargs: Any) -> Any:
        querying.active = True
        try:
            return query(self, *args, **kwargs)
        finally:
            querying.active = False

    uncopied._uncopied = True  # type: ignore[attr-defined]
    Table.query = uncopied  # type: ignore[method-assign]


@_for_written_moto
def fast_update_expressions() -> None:
    """Parse each UpdateExpression text once, and copy its syntax tree cheaply. Idempotent.

    moto parses an UpdateItem's expression twice per request and deep-copies the tree before
    validating it; for the position update of a fill (a dozen `if_not_exists` clauses) that is tens
    of milliseconds per request. The parsed tree is never changed (validation works on the copy),
    so it is cached by text; the copy clones the nodes directly instead of through `copy.deepcopy`.
    """
    import copy

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    make = UpdateExpressionParser.make
    if getattr(make, "_cached", False):
        return

    cached = functools.lru_cache(maxsize=512)(make)

    def make_once(expression: str) -> Any:
        return cached(expression)

    make_once._cached = True  # type: ignore[attr-defined]
    UpdateExpressionParser.make = staticmethod(make_once)

    def clone(node: Any, parent: Any = None) -> Any:
        twin = object.__new__(type(node))
        twin.__dict__.update(node.__dict__)
        twin.parent = parent
        if node.children is not None:
            twin.children = [clone(child, twin) if isinstance(child, Node) else child for child in node.children]
        return twin

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if type(value).__dict__.get("__deepcopy__") is None and isinstance(value, Node) and value.parent is None:
            return clone(value)
        return copy.deepcopy(value, memo)

    validators.deepcopy = deepcopy  # type: ignore[attr-defined, assignment]


@_for_written_moto
def fast_dispatch() -> None:
    """List moto's service modules once, not on every request: its server's dispatcher asks for the list (an
    `os.listdir` of moto's package and an `isdir` per entry, ~170 system calls) under its one lock for each
    request it routes. The package does not change while the stack runs. Idempotent."""
    from moto import backends

    listed = backends.list_of_moto_modules
    if getattr(listed, "_cached", False):
        return
    modules = tuple(listed())

    def cached() -> tuple[str, ...]:
        return modules

    cached._cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = cached


@_for_written_moto
def keep_alive() -> None:
    """Let the embedded server keep its HTTP/1.1 connections open between requests. Idempotent.

    werkzeug's development server (moto's) answers every request with `Connection: close`, and after each
    response reads whatever else the socket holds (the unread body, since `http.server` cannot drain one),
    which on a kept-alive connection would swallow the next request. So every DynamoDB, SSM and Cognito call
    of the stack and its Lambda environments opened a TCP connection and moto started a thread for it. Here
    each request's body is read through a `LimitedStream` of its Content-Length and drained after the
    response, werkzeug's own drain reads nothing, and the connection stays open as HTTP/1.1 allows (a
    request that asks to close, or sends a chunked body, still closes it). botocore reuses its connections,
    as it does with DynamoDB's endpoint.
    """
    import io
    import socket

    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.wsgi import LimitedStream

    if getattr(threaded_moto_server.MotoRequestHandler, "_keep_alive", False):  # type: ignore[attr-defined]
        return

    class KeepAliveHandler(MotoRequestHandler):
        _keep_alive = True
        _body: LimitedStream | None = None
        _socket_input: Any = None

        def setup(self) -> None:
            super().setup()
            # headers and body leave in separate writes: without this, Nagle's algorithm holds the body
            # back for the client's delayed ACK (40 ms) on every request of a kept-alive connection
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def make_environ(self) -> Any:
            environ = super().make_environ()
            length = environ.get("CONTENT_LENGTH")
            if environ.get("wsgi.input_terminated") or not (length or "0").isdigit():
                self.close_connection = True  # a chunked body: werkzeug drains it, and the connection closes
                return environ
            self._body = LimitedStream(environ["wsgi.input"], int(length or 0))
            environ["wsgi.input"] = self._body
            environ["wsgi.input_terminated"] = True  # werkzeug reads it as it is: already bounded
            self._socket_input, self.rfile = self.rfile, io.BytesIO()  # werkzeug's drain finds nothing
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            closing = keyword.lower() == "connection" and value.lower() == "close"
            if closing and self._body is not None and not self.close_connection:
                return  # werkzeug's unconditional close; the request's own `Connection: close` still closes
            super().send_header(keyword, value)

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            finally:
                body, self._body = self._body, None
                if self._socket_input is not None:
                    self.rfile, self._socket_input = self._socket_input, None
            if body is not None and not self.close_connection:
                try:
                    body.exhaust()  # what the application left unread, so the next request line is next
                except Exception:
                    self.close_connection = True

    threaded_moto_server.MotoRequestHandler = KeepAliveHandler  # type: ignore[attr-defined]

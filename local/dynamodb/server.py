"""Start the embedded DynamoDB: moto's threaded server on a free loopback port, atomic, with its speed-ups."""

from __future__ import annotations

from typing import Any

from moto.server import ThreadedMotoServer

from local.dynamodb.atomicity import serialize_dynamodb_requests
from local.dynamodb.empty_partitions import no_empty_partitions
from local.dynamodb.instance_tracking import untracked_models
from local.dynamodb.speedups import (
    fast_dispatch,
    fast_partition_queries,
    fast_query_results,
    fast_read_responses,
    fast_transactions,
    fast_update_expressions,
    keep_alive,
)
from local.dynamodb.stream_retention import bounded_streams


def start_moto(*, partition_queries: bool = True) -> tuple[ThreadedMotoServer, str]:
    """A started moto server (DynamoDB, its streams, Cognito, SSM) and its URL; `stop()` it when done.

    The atomicity patch is always applied; the speed-ups, the streams' bounds (`stream_retention`), the
    untracked model objects (`instance_tracking`) and the dropped empty partitions (`empty_partitions`) only on
    the moto they were written for.
    `partition_queries=False` leaves moto's own Query planning (the store's tests run that way); its answers
    still come without deep copies (`fast_query_results`).
    """
    serialize_dynamodb_requests()
    if partition_queries:
        fast_partition_queries()
    fast_query_results()
    fast_read_responses()  # the stream poller's tests read GetRecords through it
    fast_transactions()  # the store's cancelled-transaction tests also check its rollback
    fast_update_expressions()
    fast_dispatch()
    bounded_streams()
    untracked_models()
    no_empty_partitions()
    keep_alive()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def backend_holding(table_name: str) -> Any:
    """The in-process moto DynamoDB backend that holds `table_name` (the journal restores into it).

    Raises
    ------
    LookupError
        No backend of this process has the table.
    """
    from moto.dynamodb.models import dynamodb_backends

    for regions in list(dynamodb_backends.values()):
        for backend in list(regions.values()):
            if table_name in backend.tables:
                return backend
    raise LookupError(f"no embedded table {table_name}")

"""The stack's live updates: the stream poller over the production stream handler, and the timed P&L drain.

With execution environments the poller hands each batch to the stream Lambda in its own process (a
`LambdaPool` of `subscriptions.handler:handler`, composed there as on AWS: publishing over IAM-signed HTTP
to the stack's GraphQL endpoint, waiting out P&L stragglers itself). Without, the handler runs in this
process over a composition of the stack's, publishing straight into the emulator, and a timer drains P&L.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from composition.live import stream_live
from local.dynamodb import snapshot
from local.edges import REGION
from local.streams.dead_letters import DeadLetterStore
from local.streams.poller import StreamPoller
from local.streams.records import stream_arn
from local.streams.wakeups import wake_on_writes
from subscriptions import handler as stream_lambda

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from composition.runtime import Composition
    from local.streams.invocation import StreamHandler
    from subscriptions.handler import Live
    from trading.ports import Publisher

log = logging.getLogger("basketgraph.local")


@dataclass
class LiveUpdates:
    live: Live | None  # the in-process composition (None: the stream Lambda runs in environments of its own)
    stream_handler: Any
    dead_letters: DeadLetterStore
    poller: StreamPoller
    stop_waking: Callable[[], None]

    @classmethod
    def compose(
        cls,
        composed: Composition,
        publisher: Publisher,
        dynamodb: Any,
        table_name: str,
        state_dir: Path,
        *,
        resume: bool = False,
        max_record_age: float | None = None,
        environments: StreamHandler | None = None,
    ) -> LiveUpdates:
        """The poller over `environments` (the stream Lambda's pool) if given; else over the handler composed
        here as the stream Lambda's is (the same function), publishing through `publisher` and draining P&L on
        a timer rather than waiting for stragglers.

        `resume`: the table's stream was restored with its records (the journal), so the poller goes on
        after its checkpoints and delivers what it had not; otherwise the records are not news.
        `max_record_age`: the event source mapping's MaximumRecordAgeInSeconds (older records are dead-lettered)."""
        live: Live | None = None
        if environments is not None:
            stream_handler: StreamHandler = environments  # warms its engine from the stream, as a cold Lambda does
        else:
            live = stream_live(composed, publisher, wait_for_stragglers=False)
            stream_handler = stream_lambda.make_handler(lambda: live)
        streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.meta.endpoint_url, region_name=REGION)
        dead_letters = DeadLetterStore(state_dir / "dead-letters.jsonl")
        poller = StreamPoller(
            streams,
            stream_arn(dynamodb, table_name),
            stream_handler,
            dead_letters=dead_letters,
            checkpoint_path=state_dir / "stream-checkpoints.json",
            max_record_age=max_record_age,
        )
        if not (resume and poller.has_checkpoints):
            # Seeded items on a fresh table are not news to subscribers; the engine learns them directly.
            poller.skip_to_end()
        stop_waking = wake_on_writes(poller, [dynamodb, composed.aws.dynamodb])
        if live is not None:
            for item in snapshot.items(dynamodb, table_name):
                live.pnl.feed({"eventName": "INSERT", "dynamodb": {"NewImage": item}})
        return cls(live, stream_handler, dead_letters, poller, stop_waking)

    def drain_pnl(self, stop: threading.Event) -> None:
        """Publish coalesced P&L as it falls due, off the stream's path (a Lambda waits instead: in its own
        environments the stream Lambda publishes its stragglers itself, and there is nothing to drain here)."""
        live = self.live
        if live is None:
            return
        interval = live.pnl.engine.min_interval.total_seconds()
        boot = uuid.uuid4().hex[:12]  # tick numbers start again after a restart; their event ids must not
        tick = 0
        while not stop.wait(interval):
            tick += 1
            try:
                live.pnl.publish_due(live.publisher, f"tick:{boot}:{tick}")
            except Exception:  # logged; the basket publishes again on its next change
                log.exception("P&L drain failed")

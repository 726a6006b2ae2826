"""The DynamoDB stream Lambda: order changes, fills and P&L become publish mutations.

Batches report partial failures (ReportBatchItemFailures); publishing is idempotent per stream
record because every event id is derived from the record and AppSync's publish resolver delivers
an event id once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from subscriptions.payloads import basket_event, fill_event, order_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from subscriptions.account_risk import AccountWatch
    from subscriptions.legs import LegWatch
    from subscriptions.pnl import PnlFeed
    from subscriptions.risk import RiskWatch
    from trading.ports import Publisher

logger = Logger(service="basketgraph-streams")


@dataclass
class Live:
    """What the stream handler composes: where events go, the P&L engine fed by the stream, the
    risk watch that exits baskets past their limits (it sees every P&L snapshot published), and the
    leg watch that runs legs' managed exits (stop-loss, target, trailing, re-entry) from every mark."""

    publisher: Publisher
    pnl: PnlFeed
    risk: RiskWatch | None = None
    accounts: AccountWatch | None = None  # account-level daily limits (subscriptions/account_risk.py)
    legs: LegWatch | None = None

    def __post_init__(self) -> None:
        if self.risk is not None:
            self.pnl.watchers.append(self.risk.check)
        if self.accounts is not None:
            self.pnl.watchers.append(self.accounts.check)


@cache
def bootstrap() -> Live:
    """The production composition: AppSync over IAM, an engine warmed by the stream itself, and automatic
    exits through the process's ports (see composition.live)."""
    from composition.live import stream_live
    from composition.runtime import bootstrap as composition

    return stream_live(composition())


Handler = Callable[[dict[str, Any], "LambdaContext"], "PartialItemFailureResponse"]


def make_handler(live: Callable[[], Live]) -> Handler:
    """A stream handler over the composition `live()` returns (the local stack passes its own)."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> None:
        composed = live()
        raw = record.raw_event
        for event in (order_event(raw), fill_event(raw), basket_event(raw)):
            if event is not None:
                composed.publisher.publish(event)
        composed.pnl.feed(raw)
        if composed.risk is not None:
            composed.risk.feed(raw)
        if composed.accounts is not None:
            composed.accounts.feed(raw)
        if composed.legs is not None:
            composed.legs.feed(raw)

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        records = event.get("Records") or []
        batch = records[-1]["dynamodb"].get("SequenceNumber", "") if records else ""
        composed = live()
        composed.pnl.publish_due(composed.publisher, batch)
        if composed.legs is not None:
            composed.legs.publish_due(composed.publisher)
        return response

    return handle


handler = make_handler(bootstrap)

"""The table's stream into the stream Lambda: partial batch failures, bisect, bounded retries, an SQS DLQ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from store.spec import STREAM_MAX_RECORD_AGE_SECONDS

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb

    from infra.stages import Stage

BATCH_SIZE = 100
MAX_RETRIES = 5
PARALLELIZATION = 1


class StreamsConstruct(Construct):
    """One batch at a time per shard, in order; a record that keeps failing after `MAX_RETRIES`
    (bisecting down to it) or grows older than `store.spec.STREAM_MAX_RECORD_AGE_SECONDS` goes to the DLQ; the
    delivery markers' TTL (`DELIVERY_TTL_SECONDS`) is set just past that age, so they outlive every redelivery."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        table: dynamodb.TableV2,
        handler: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{stage.prefix}-stream-dlq",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=stage.removal_policy,
        )
        acknowledge(
            self.dead_letters,
            "This queue is the dead-letter queue: it holds descriptions of stream batches given up on.",
            "AwsSolutions-SQS3",
        )
        handler.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=BATCH_SIZE,
                parallelization_factor=PARALLELIZATION,
                bisect_batch_on_error=True,
                retry_attempts=MAX_RETRIES,
                max_record_age=Duration.seconds(STREAM_MAX_RECORD_AGE_SECONDS),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letters),
            )
        )

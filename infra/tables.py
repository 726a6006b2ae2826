"""The single DynamoDB table, built from the same spec the adapter and the local stack use."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from store.spec import INDEXES, PRIMARY_KEY, TTL_ATTRIBUTE


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class TablesConstruct(Construct):
    """`Trading`: PK/SK, the GSIs of `store.spec`, streams with both images, TTL, PITR, retained on delete."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        partition, sort = PRIMARY_KEY
        self.table = dynamodb.TableV2(
            self,
            "Trading",
            partition_key=_key(partition),
            sort_key=_key(sort),
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index,
                    partition_key=_key(pk),
                    sort_key=_key(sk),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index, (pk, sk) in INDEXES.items()
            ],
        )

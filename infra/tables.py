"""The single DynamoDB table, built from the same spec the adapter and the local stack use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from store.spec import INDEXES, PRIMARY_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from infra.stages import Stage


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class TablesConstruct(Construct):
    """`Trading`: PK/SK, the GSIs of `store.spec`, streams with both images, TTL, encryption at rest.

    Point-in-time recovery, deletion protection and the removal policy follow the stage (prod retains).
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        partition, sort = PRIMARY_KEY
        self.table = dynamodb.TableV2(
            self,
            "Trading",
            table_name=f"{stage.prefix}-trading",
            partition_key=_key(partition),
            sort_key=_key(sort),
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=stage.point_in_time_recovery
            ),
            deletion_protection=stage.deletion_protection,
            removal_policy=stage.removal_policy,
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


READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def grant_table(table: dynamodb.TableV2, grantee: iam.IGrantable, actions: Sequence[str]) -> None:
    """Allow exactly `actions` on the table and its named indexes (no wildcard resource)."""
    resources = [table.table_arn, *(f"{table.table_arn}/index/{index}" for index in INDEXES)]
    iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=resources)

"""The CDK app's table matches the spec the adapter and the local stack use."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from infra.app import build
from store.spec import INDEXES, TTL_ATTRIBUTE


def test_table_follows_the_store_spec() -> None:
    template = Template.from_stack(build(cdk.App()))
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "GlobalSecondaryIndexes": Match.array_with([Match.object_like({"IndexName": name}) for name in INDEXES]),
        },
    )

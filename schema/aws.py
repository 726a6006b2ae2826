"""AppSync's scalars and directives: used in the code, never defined in the exported SDL."""

from __future__ import annotations

import json
from typing import NewType

import strawberry
from strawberry.schema_directive import Location
from strawberry.types.scalar import ScalarDefinition

AWSDateTime = NewType("AWSDateTime", str)
AWSDate = NewType("AWSDate", str)
AWSJSON = NewType("AWSJSON", str)


def _json_out(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    AWSDateTime: strawberry.scalar(
        name="AWSDateTime",
        description="ISO-8601 date-time with offset (UTC), e.g. 2026-11-23T09:15:00Z",
        serialize=str,
        parse_value=str,
    ),
    AWSDate: strawberry.scalar(
        name="AWSDate", description="ISO-8601 date, e.g. 2026-12-29", serialize=str, parse_value=str
    ),
    AWSJSON: strawberry.scalar(
        name="AWSJSON", description="A JSON document, as a string", serialize=_json_out, parse_value=str
    ),
}
AWS_SCALARS = ("AWSDateTime", "AWSDate", "AWSJSON", "AWSTime", "AWSTimestamp", "AWSEmail", "AWSURL")


@strawberry.schema_directive(
    locations=[Location.OBJECT, Location.FIELD_DEFINITION],
    name="aws_cognito_user_pools",
    print_definition=False,
)
class AwsCognitoUserPools:
    cognito_groups: list[str] | None = strawberry.UNSET


@strawberry.schema_directive(
    locations=[Location.OBJECT, Location.FIELD_DEFINITION], name="aws_iam", print_definition=False
)
class AwsIam:
    pass


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="aws_subscribe", print_definition=False)
class AwsSubscribe:
    mutations: list[str]

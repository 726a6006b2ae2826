"""Stream records as Lambda hands them to a handler, and the stream of a table."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def stream_arn(dynamodb_client: Any, table_name: str) -> str:
    """The table's latest stream ARN (DescribeTable → LatestStreamArn).

    Raises
    ------
    LookupError
        The table has no stream enabled.
    """
    table = dynamodb_client.describe_table(TableName=table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn or not table.get("StreamSpecification", {}).get("StreamEnabled", True):
        raise LookupError(f"table {table_name} has no stream enabled")
    return str(arn)


def lambda_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over: epoch-second timestamps, base64 binaries, the ARN."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {name: json_attribute(value) for name, value in change[image].items()}
    shaped = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,  # moto reports us-east-1 whatever the region
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    identity = record.get("userIdentity")
    if identity:  # a TTL deletion; GetRecords says Type/PrincipalId, Lambda's event type/principalId
        shaped["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return shaped


def json_attribute(value: Any) -> Any:
    """An AttributeValue as JSON carries it (botocore decodes B and BS to bytes; Lambda sends base64)."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if kind == "B" and isinstance(inner, bytes | bytearray):
            out[kind] = base64.b64encode(inner).decode("ascii")
        elif kind == "BS":
            out[kind] = [
                base64.b64encode(item).decode("ascii") if isinstance(item, bytes | bytearray) else item
                for item in inner
            ]
        elif kind == "M":
            out[kind] = {name: json_attribute(item) for name, item in inner.items()}
        elif kind == "L":
            out[kind] = [json_attribute(item) for item in inner]
        else:
            out[kind] = inner
    return out

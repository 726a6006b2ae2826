"""Selection sets that ask for every field of a type, read from the exported schema (AppSync forwards
to subscribers only the fields the publish mutation selected)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLObjectType, build_schema, get_named_type

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
_PRELUDE = """
scalar AWSDateTime
scalar AWSDate
scalar AWSJSON
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""


@cache
def _schema() -> object:
    return build_schema(_PRELUDE + SCHEMA_FILE.read_text())


def every_field(type_name: str) -> str:
    """`{ a b c { d e } }` selecting every field of `type_name`, recursively."""
    schema = _schema()
    named = schema.get_type(type_name)  # type: ignore[attr-defined]
    if not isinstance(named, GraphQLObjectType):
        raise ValueError(f"{type_name} is not an object type")
    parts = []
    for name, field in named.fields.items():
        inner = get_named_type(field.type)
        parts.append(f"{name} {every_field(inner.name)}" if isinstance(inner, GraphQLObjectType) else name)
    return "{ " + " ".join(parts) + " }"


@cache
def publish_document(mutation: str, payload_type: str) -> str:
    """The publish mutation, selecting every field subscribers may ask for."""
    return (
        f"mutation Publish($eventId: ID!, $ownerId: ID!, $basketId: ID!, $payload: AWSJSON!) "
        f"{{ {mutation}(eventId: $eventId, ownerId: $ownerId, basketId: $basketId, payload: $payload) "
        f"{every_field(payload_type)} }}"
    )

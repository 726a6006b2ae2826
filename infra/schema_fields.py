"""What the API construct reads from `schema/schema.graphql`: which root fields a Lambda resolves.

The publish mutations are the ones named by a subscription's `@aws_subscribe(mutations: [...])`;
AppSync resolves them without the Lambda. Every other field of Query, Mutation and Subscription is
resolved by the resolver Lambda, so a field added to the schema code gets a resolver on the next
`schema export` + deploy, and cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from graphql import build_schema, get_named_type, is_object_type

if TYPE_CHECKING:
    from graphql import GraphQLObjectType, GraphQLSchema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
AWS_SCALARS = ("AWSDateTime", "AWSDate", "AWSJSON", "AWSTime", "AWSTimestamp", "AWSEmail", "AWSURL")
APPSYNC_PRELUDE = "\n".join(
    [
        *(f"scalar {name}" for name in AWS_SCALARS),
        "directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION",
        "directive @aws_iam on OBJECT | FIELD_DEFINITION",
        "directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION",
    ]
)


@dataclass(frozen=True)
class SchemaFields:
    lambda_fields: frozenset[tuple[str, str]]
    """(type name, field name) of every root field the resolver Lambda answers."""
    publish_mutations: frozenset[str]
    """Mutation fields that subscriptions listen to (IAM-only, resolved by AppSync itself)."""


def load(path: Path = SCHEMA_FILE) -> GraphQLSchema:
    """The exported schema as AppSync sees it (its scalars and directives predeclared)."""
    return build_schema(APPSYNC_PRELUDE + "\n" + path.read_text())


def _roots(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    return [root for root in (schema.query_type, schema.mutation_type, schema.subscription_type) if root is not None]


def _subscribed_mutations(schema: GraphQLSchema) -> set[str]:
    names: set[str] = set()
    subscription = schema.subscription_type
    for field in subscription.fields.values() if subscription else ():
        for directive in field.ast_node.directives if field.ast_node else ():
            if directive.name.value == "aws_subscribe":
                for argument in directive.arguments:
                    names.update(value.value for value in getattr(argument.value, "values", ()))
    return names


@cache
def schema_fields(path: Path = SCHEMA_FILE) -> SchemaFields:
    schema = load(path)
    publish = _subscribed_mutations(schema)
    fields = {
        (root.name, name)
        for root in _roots(schema)
        for name in root.fields
        if not (schema.mutation_type is root and name in publish)
    }
    return SchemaFields(lambda_fields=frozenset(fields), publish_mutations=frozenset(publish))


def directives_of(node: object) -> set[str]:
    """Directive names on a type's or field's definition."""
    return {directive.name.value for directive in getattr(node, "directives", None) or ()}


def types_reachable_from(schema: GraphQLSchema, root: GraphQLObjectType) -> set[str]:
    """Object types reachable from the return types of `root`'s fields (not the root itself)."""
    seen: set[str] = set()
    pending = [get_named_type(field.type) for field in root.fields.values()]
    while pending:
        named = pending.pop()
        if not is_object_type(named) or named.name in seen:
            continue
        seen.add(named.name)
        pending.extend(get_named_type(field.type) for field in named.fields.values())
    return seen

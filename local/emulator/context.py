"""What AppSync hands a resolver Lambda: the Lambda context, the direct-resolver event (arguments as
JSON, AppSync's selection lists) and the identity of an IAM-signed request."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from graphql.execution import values as graphql_values
from graphql.execution.values import get_argument_values
from strawberry.types.base import has_object_definition
from strawberry.types.unset import UnsetType

if TYPE_CHECKING:
    import strawberry

ResolveInfo = Any  # graphql-core's GraphQLResolveInfo (generic from 3.3 on)


def plain(value: Any, schema: strawberry.Schema) -> Any:
    """Coerced argument values back to the JSON AppSync hands a Lambda (GraphQL names, enum names)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v, schema) for v in value]
    if has_object_definition(value):
        out = {}
        for f in type(value).__strawberry_definition__.fields:  # type: ignore[attr-defined]
            item = getattr(value, f.python_name)
            if not isinstance(item, UnsetType):
                out[schema.config.name_converter.get_graphql_name(f)] = plain(item, schema)
        return out
    if isinstance(value, dict):
        return {k: plain(v, schema) for k, v in value.items()}
    return value


def selection_set_list(info: ResolveInfo) -> list[str]:
    """AppSync's `selectionSetList`: every selected field path below this one, fragments expanded."""
    paths: list[str] = []

    def walk(selection_set: SelectionSetNode | None, prefix: str) -> None:
        if selection_set is None:
            return
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value.startswith("__"):
                    continue
                path = f"{prefix}{node.name.value}"
                paths.append(path)
                walk(node.selection_set, path + "/")
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set, prefix)
            elif isinstance(node, FragmentSpreadNode):
                walk(info.fragments[node.name.value].selection_set, prefix)

    for field_node in info.field_nodes:
        walk(field_node.selection_set, "")
    return list(dict.fromkeys(paths))


def _variables(info: ResolveInfo) -> Any:
    """The variables in the form this graphql-core's `get_argument_values` takes (3.3 wraps them)."""
    values: Any = info.variable_values
    wrapper: Any = getattr(graphql_values, "VariableValues", None)  # graphql-core >= 3.3
    if wrapper is None or isinstance(values, wrapper):
        return values
    return wrapper(sources={}, coerced=dict(values))


def resolver_event(
    info: ResolveInfo,
    schema: strawberry.Schema,
    identity: dict[str, Any],
    headers: dict[str, str],
    selection: dict[str, Any],
) -> dict[str, Any]:
    """The event an AppSync direct Lambda resolver sends for one root field; `selection` holds its
    `selectionSetList` and `selectionSetGraphQL`."""
    field_def = info.parent_type.fields[info.field_name]
    arguments = get_argument_values(field_def, info.field_nodes[0], _variables(info))
    return {
        "arguments": plain(arguments, schema),
        "identity": identity,
        "source": None,
        "request": {"headers": headers, "domainName": None},
        "prev": None,
        "info": {
            "fieldName": info.field_name,
            "parentTypeName": info.parent_type.name,
            "variables": plain(dict(info.variable_values), schema),
            **selection,
        },
        "stash": {},
    }


# The identity AppSync passes a resolver for an IAM-signed request (the stream handler's role).
LOCAL_IAM_IDENTITY: dict[str, Any] = {
    "accountId": "000000000000",
    "cognitoIdentityAuthProvider": None,
    "cognitoIdentityAuthType": None,
    "cognitoIdentityId": None,
    "cognitoIdentityPoolId": None,
    "sourceIp": ["127.0.0.1"],
    "userArn": "arn:aws:sts::000000000000:assumed-role/basketgraph-streams/local",
    "username": "AROALOCAL:basketgraph-streams",
}

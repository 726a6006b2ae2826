"""schema/schema.graphql is exactly what the code exports, valid for AppSync, and fully resolved."""

from __future__ import annotations

import re

import graphql

from schema.aws import AWS_SCALARS
from schema.export import SCHEMA_FILE, export_sdl

APPSYNC_PRELUDE = "\n".join(
    [
        *(f"scalar {name}" for name in AWS_SCALARS),
        "directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION",
        "directive @aws_iam on OBJECT | FIELD_DEFINITION",
        "directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION",
    ]
)


def test_committed_schema_equals_the_export() -> None:
    assert SCHEMA_FILE.read_text() == export_sdl(), "run `basketgraph schema export` and commit the result"


def test_schema_defines_no_directives_or_aws_scalars() -> None:
    sdl = SCHEMA_FILE.read_text()
    assert not re.search(r"^directive ", sdl, re.MULTILINE)
    for name in AWS_SCALARS:
        assert not re.search(rf"^scalar {name}\b", sdl, re.MULTILINE)


def test_schema_builds_with_appsyncs_own_definitions() -> None:
    built = graphql.build_schema(APPSYNC_PRELUDE + "\n" + SCHEMA_FILE.read_text())
    assert built.query_type is not None
    assert built.mutation_type is not None


def test_every_root_field_has_a_lambda_resolver_and_nothing_else_does() -> None:
    from resolvers.handler import app

    built = graphql.build_schema(APPSYNC_PRELUDE + "\n" + SCHEMA_FILE.read_text())
    fields = {
        (root.name, name)
        for root in (built.query_type, built.mutation_type, built.subscription_type)
        if root is not None
        for name in root.fields
    }
    registered = {tuple(key.split(".", 1)) for key in app._resolver_registry.resolvers}
    assert fields == registered

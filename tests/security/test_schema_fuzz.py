"""A bounded schemathesis fuzz of every query and mutation field over HTTP on the local stack, signed in as a
real user: no HTTP 5xx, and every error typed (an errorType from the known registry, no traceback).

One test per root field, generated from the API's own schema (the one `schema.graphql` is exported from); each
runs `EXAMPLES_PER_FIELD` Hypothesis examples against the running stack. The total of requests is printed at the
end of the module (`-s`) and recorded as the test suite property `schema_fuzz_requests` (JUnit XML)."""

from __future__ import annotations

import json
import os
import threading
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from graphql import introspection_from_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from schema.export import build_schema
from trading.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

# 32 fields x 2 modes x this: about 1,500 requests, a minute on 2 busy cores. A deeper run:
# BASKETGRAPH_FUZZ_EXAMPLES=200 pytest tests/security/test_schema_fuzz.py
EXAMPLES_PER_FIELD = int(os.environ.get("BASKETGRAPH_FUZZ_EXAMPLES", "25"))


def _error_types(cls: type[DomainError]) -> set[str]:
    return {cls.error_type} | {name for sub in cls.__subclasses__() for name in _error_types(sub)}


# What a client may see: the domain's types (resolvers/errors.py maps them), the emulator's request refusals
# (local/emulator/requests.py) and AppSync's own UnauthorizedException.
KNOWN_ERROR_TYPES = (_error_types(DomainError) - {"DomainError"}) | {
    "MalformedHttpRequestException",
    "RequestEntityTooLargeException",
    "QueryDepthLimitReached",
    "ResolverCountLimitReached",
    "QueryTooComplex",
    "UnauthorizedException",
}

# The AWS scalars the schema takes as input (schema/aws.py): JSON text for the publish mutations' payloads.
schemathesis.graphql.scalar(
    "AWSJSON",
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3).map(
        lambda value: nodes.String(json.dumps(value))
    ),
)
schemathesis.graphql.scalar("AWSDateTime", st.datetimes().map(lambda value: nodes.String(value.isoformat() + "Z")))
schemathesis.graphql.scalar("AWSDate", st.dates().map(lambda value: nodes.String(value.isoformat())))

API = schemathesis.graphql.from_dict(dict(introspection_from_schema(build_schema()._schema)))
# every root field loads (an Err would raise here, failing the module loudly)
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in API.get_all_operations())}  # type: ignore[union-attr]


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.errors = 0

    def add(self, errors: int) -> None:
        with self._lock:
            self.requests += 1
            self.errors += errors


TALLY = Tally()


@pytest.fixture(scope="module")
def fuzzer(stack: LocalStack) -> dict[str, str]:
    return stack.add_user("fuzzer")


@pytest.fixture(scope="module", autouse=True)
def report(record_testsuite_property: Any) -> Iterator[None]:
    yield
    record_testsuite_property("schema_fuzz_requests", TALLY.requests)
    print(f"\nschema fuzz: {len(OPERATIONS)} fields, {TALLY.requests} requests, {TALLY.errors} typed errors")


def test_the_fuzz_covers_every_query_and_mutation_field() -> None:
    graphql_schema = build_schema()._schema
    query, mutation = graphql_schema.query_type, graphql_schema.mutation_type
    assert query is not None and mutation is not None
    fields = {f"Query.{name}" for name in query.fields} | {f"Mutation.{name}" for name in mutation.fields}
    assert set(OPERATIONS) == fields


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_a_field_answers_typed_errors_and_never_5xx(
    stack: LocalStack, fuzzer: dict[str, str], label: str, mode: GenerationMode
) -> None:
    """Valid requests (schemathesis' positive mode) and requests the schema refuses (negative: wrong types,
    missing arguments)."""
    url = f"{stack.url}/graphql"

    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_FIELD,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        reply = case.call(base_url=url, headers={"Authorization": fuzzer["token"]}, timeout=60)
        errors = (reply.json().get("errors") or []) if reply.status_code < 500 else []
        TALLY.add(len(errors))

        assert reply.status_code < 500, (case.body, reply.text)
        for error in errors:
            assert error.get("errorType") in KNOWN_ERROR_TYPES, (case.body, error)
            assert "Traceback" not in str(error.get("message")), (case.body, error)

    fuzz()

"""The local AppSync's HTTP GraphQL endpoint: the exported schema executed by strawberry, each root
field resolved by the resolver Lambda, errors printed as AppSync prints them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from graphql import GraphQLError, get_operation_ast
from starlette.responses import JSONResponse

from local.auth import is_sigv4
from local.emulator.context import LOCAL_IAM_IDENTITY
from local.emulator.invoker import ResolverError
from local.emulator.requests import (
    MAX_REQUEST_BYTES,
    RequestRefused,
    check_limits,
    error_entry,
    parsed,
    request_body,
    too_large,
)
from local.realtime.pubsub import mutation_results, routes_from_schema
from trading.errors import Unauthorized

if TYPE_CHECKING:
    import strawberry
    from starlette.requests import Request

    from local.auth import IamVerifier, JwtVerifier
    from local.emulator.invoker import LambdaInvoker

log = logging.getLogger(__name__)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """An error as AppSync prints it: message, errorType, path, locations, data, errorInfo."""
    original = error.original_error
    error_type = original.error_type if isinstance(original, ResolverError) else None
    if isinstance(original, GraphQLError):  # a variable's value the schema refuses: the client's mistake
        original = None
    if original is not None and not isinstance(original, ResolverError):
        log.exception("resolver failed", exc_info=original)
        error_type, message = "InternalError", "something went wrong in the emulator; see its log"
    else:
        message = error.message
    formatted: dict[str, Any] = {
        "path": error.path,
        "data": None,
        "errorType": error_type or ("ValidationError" if error.path is None else "InternalError"),
        "errorInfo": None,
        "locations": [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or []],
        "message": message,
    }
    return formatted


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"errorType": "UnauthorizedException", "message": message}]},
        status_code=401,
    )


Publish = Callable[[str, dict[str, Any], "str | None"], bool]


class GraphQLEndpoint:
    """POST /graphql: verify the caller as AppSync does (a user pool JWT, or a SigV4 signature of the IAM role
    `iam` verifies), then execute with the Lambda invoker.

    A successful mutation that subscriptions listen to (`@aws_subscribe`) is handed to `publish`,
    which fans it out to subscribers, as AppSync does.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        invoker: LambdaInvoker,
        verifier: JwtVerifier,
        publish: Publish | None = None,
        iam: IamVerifier | None = None,
    ) -> None:
        self.schema = schema
        self.invoker = invoker
        self.verifier = verifier
        self.publish = publish
        self.iam = iam
        self.routes = routes_from_schema(schema)

    def execute(
        self, body: dict[str, Any], identity: dict[str, Any], headers: dict[str, str], *, iam: bool = False
    ) -> dict[str, Any]:
        """Run one GraphQL request for `identity`; returns the response body AppSync would send.

        Only an IAM-signed request (`iam`) publishes: AppSync fans out the results of the mutation fields
        a subscription names, and the publish mutations are `@aws_iam`.
        """
        try:
            document = parsed(body["query"])
        except GraphQLError as exc:  # a syntax error, or more tokens than the emulator parses
            return {"data": None, "errors": [error_entry(exc.message, "ValidationError", exc)]}
        operation_name = body.get("operationName")
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            named = f"no operation named {operation_name!r}" if operation_name else "an operation name is needed"
            return {"data": None, "errors": [error_entry(f"{named} in this document", "ValidationError")]}
        try:
            check_limits(document, operation)
        except RequestRefused as exc:
            return {"data": None, "errors": [error_entry(exc.message, exc.error_type)]}
        context = {"invoke": lambda info: self.invoker(info, identity, headers)}
        result = self.schema.execute_sync(
            body["query"],
            variable_values=body.get("variables") or None,
            context_value=context,
            operation_name=operation_name,
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [format_error(e) for e in result.errors]
        if iam and self.publish is not None and result.data:
            for field_name, value in mutation_results(self.routes, document, result.data, body.get("operationName")):
                event_id = value.get("eventId")
                self.publish(field_name, dict(value), str(event_id) if event_id is not None else None)
        return payload

    def execute_as_iam(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """An IAM-signed request from inside the stack (the local stream handler's publisher)."""
        return self.execute({"query": query, "variables": variables}, LOCAL_IAM_IDENTITY, {}, iam=True)

    async def handle(self, request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization", "")
        signed = is_sigv4(authorization)
        try:
            identity = LOCAL_IAM_IDENTITY if signed else self.verifier.verify(authorization).to_event()
        except Unauthorized as exc:
            return unauthorized(exc.message)
        try:
            raw = await _limited_body(request)
            if signed:  # the signature covers the body: verified before anything of it is trusted
                self._verify_signature(request, raw)
            body = request_body(raw)
        except Unauthorized as exc:
            return unauthorized(exc.message)
        except RequestRefused as exc:
            return JSONResponse({"errors": [error_entry(exc.message, exc.error_type)]}, status_code=exc.status)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        try:
            payload = await anyio.to_thread.run_sync(lambda: self.execute(body, identity, headers, iam=signed))
        except Exception:  # a bug of the emulator's: logged, and answered as AppSync answers its own failures
            log.exception("request failed")
            payload = {"data": None, "errors": [error_entry("something went wrong in the emulator", "InternalError")]}
        return JSONResponse(payload)

    def _verify_signature(self, request: Request, raw: bytes) -> None:
        """An IAM caller's SigV4 signature, as AppSync checks it; without a role to check against, refused."""
        if self.iam is None:
            raise Unauthorized("IAM authorization is not enabled for this API")
        self.iam.verify({k.lower(): v for k, v in request.headers.items()}, raw)


async def _limited_body(request: Request) -> bytes:
    """The body, refused (RequestRefused) as soon as it is known to be over MAX_REQUEST_BYTES, unread beyond."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise too_large()
    return b"".join(chunks)

"""The local stack's own HTTP routes: users, prices, instruments, dead letters, reconciliation, health, postbacks."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import anyio
from starlette.responses import JSONResponse
from starlette.routing import Route

from local.lambda_context import LambdaContext
from resolvers.postback import MAX_POSTBACK_BYTES
from trading.errors import ValidationError
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from local.streams.dead_letters import DeadLetterStore

    Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Admin:
    """What the routes act on; the stack passes its parts."""

    add_user: Callable[[str], dict[str, str]]
    set_prices: Callable[[dict[InstrumentRef, Decimal]], None]
    reconcile: Callable[[], dict[str, Any]]
    load_instruments: Callable[[str], dict[str, object]]
    dead_letters: DeadLetterStore
    stream_handler: Handler
    postback_handler: Handler

    async def postback(self, request: Request) -> JSONResponse:
        """Kite's postback URL, answered by the production postback Lambda (a function URL on AWS).

        The body goes to the Lambda as bytes, base64-encoded as a function URL sends a body that is not text;
        read no further than the Lambda accepts, so an endless body is not buffered.
        """
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_POSTBACK_BYTES:
                return JSONResponse({"error": f"a postback is at most {MAX_POSTBACK_BYTES} bytes"}, status_code=413)
        event = {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True, "headers": dict(request.headers)}
        context = cast("Any", LambdaContext("basketgraph-postbacks"))
        reply = await anyio.to_thread.run_sync(lambda: self.postback_handler(event, context))
        return JSONResponse(json.loads(reply["body"]), status_code=reply["statusCode"])

    async def users(self, request: Request) -> JSONResponse:
        body = await request.json()
        name = str(body.get("username", "")).strip()
        if not name.isidentifier() or len(name) > 64:
            return JSONResponse({"error": "username must be letters, digits or _ (max 64)"}, status_code=400)
        return JSONResponse(await anyio.to_thread.run_sync(self.add_user, name))

    async def prices(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
            parsed = {InstrumentRef(*key.upper().split(":", 1)): Decimal(str(value)) for key, value in body.items()}
        except (ValueError, TypeError, InvalidOperation):
            return JSONResponse({"error": 'send {"NFO:SYMBOL": "123.45", ...}'}, status_code=400)
        await anyio.to_thread.run_sync(self.set_prices, parsed)
        return JSONResponse({str(k): str(v) for k, v in parsed.items()})

    async def list_dead_letters(self, _: Request) -> JSONResponse:
        return JSONResponse(self.dead_letters.list())

    async def replay(self, _: Request) -> JSONResponse:
        replayed, failing = await anyio.to_thread.run_sync(self.dead_letters.replay, self.stream_handler)
        return JSONResponse({"replayed": replayed, "stillFailing": failing})

    async def run_reconcile(self, _: Request) -> JSONResponse:
        return JSONResponse(await anyio.to_thread.run_sync(self.reconcile))

    async def instruments(self, request: Request) -> JSONResponse:
        """`basketgraph instruments load`: {"source": a file path or URL of a Kite instrument dump}."""
        try:
            source = str((await request.json())["source"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"source": "FILE or URL"}'}, status_code=400)
        try:
            report = await anyio.to_thread.run_sync(self.load_instruments, source)
        except ValidationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(report)

    @staticmethod
    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})


def admin_routes(admin: Admin) -> list[Route]:
    return [
        Route("/postback/kite", admin.postback, methods=["POST"]),
        Route("/local/users", admin.users, methods=["POST"]),
        Route("/local/prices", admin.prices, methods=["POST"]),
        Route("/local/dead-letters", admin.list_dead_letters, methods=["GET"]),
        Route("/local/dead-letters/replay", admin.replay, methods=["POST"]),
        Route("/local/reconcile", admin.run_reconcile, methods=["POST"]),
        Route("/local/instruments", admin.instruments, methods=["POST"]),
        Route("/health", admin.health),
    ]

"""The AppSync resolver Lambda: `handler(event, context)`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import AppSyncResolver

from composition.runtime import bootstrap
from resolvers import account_risk, accounts, baskets, errors, live, margins, orders, portfolio
from resolvers.composed import running_with
from trading.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from composition.runtime import Composition

    Handler = Callable[[dict[str, Any], LambdaContext], Any]

logger = Logger(service="basketgraph-resolvers")
app = AppSyncResolver()
app.include_router(baskets.router)
app.include_router(orders.router)
app.include_router(portfolio.router)
app.include_router(accounts.router)
app.include_router(account_risk.router)
app.include_router(live.router)
app.include_router(margins.router)


@app.exception_handler(DomainError)
def domain_error(exc: DomainError) -> dict[str, Any]:
    logger.info("request refused", extra={"error_type": exc.error_type, "error": exc.message})
    return errors.from_domain(exc)


@app.exception_handler(Exception)
def unexpected_error(exc: Exception) -> dict[str, Any]:
    logger.exception("unhandled error")
    context = app.lambda_context
    return errors.internal(getattr(context, "aws_request_id", None))


def make_handler(compose: Callable[[], Composition]) -> Handler:
    """The resolver Lambda over the composition `compose()` returns (tests pass theirs)."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> Any:
        with running_with(compose()):
            return app.resolve(event, context)

    return handle


handler = make_handler(bootstrap)

"""The instrument refresh Lambda: each weekday before the open (EventBridge Scheduler, IST), Kite's instrument
dump from the settings' `instruments_url` into the store's instrument master.

Event: `{}`. Returns the load's totals (instruments written, rows skipped, MCX commodities without a multiplier).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from composition.instruments import load_instrument_dump
from composition.runtime import bootstrap

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from composition.runtime import Composition

logger = Logger(service="basketgraph-instruments")


def make_handler(compose: Callable[[], Composition]) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler over the composition `compose` gives (the process's, on AWS)."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        composed = compose()
        report = load_instrument_dump(composed.settings.instruments_url, composed.store.instruments)
        totals = report.as_dict()
        if report.without_multiplier:
            logger.warning("MCX commodities missing from the multiplier table load with multiplier 1", extra=totals)
        logger.info("instrument master refreshed", extra=totals)
        return totals

    return handle


handler = make_handler(bootstrap)

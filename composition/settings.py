"""The deployment's settings: every environment variable of ours, parsed once into one typed object."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from brokers.kite.instruments import KITE_INSTRUMENTS_URL
from brokers.kite.ratelimit import DEFAULT_ORDER_RATE
from brokers.secrets import DEFAULT_SECRETS_PREFIX
from store.spec import DEFAULT_TABLE_NAME, DELIVERY_TTL_SECONDS

DEFAULT_REGION = "ap-south-1"


class Settings(BaseSettings):
    """What a deployment configures. On AWS the stacks set these as the functions' environment
    (field `table_name` is `TABLE_NAME`); the local stack builds one with its own values instead.

    Endpoints of AWS services follow boto3's own `AWS_ENDPOINT_URL_<SERVICE>` variables on AWS;
    the local stack names them in `endpoint_urls` (service -> URL) so that nothing goes through
    the process environment.
    """

    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, extra="ignore")

    table_name: str = DEFAULT_TABLE_NAME
    aws_region: str = DEFAULT_REGION
    endpoint_urls: dict[str, str] = Field(default_factory=dict)

    # brokers (see composition/brokers.py): the default one, the deployment's apps and roots
    broker: str = "kite"
    kite_api_key: str | None = None
    kite_api_secret: str | None = None
    kite_api_secret_parameter: str | None = None
    kite_root: str | None = None
    kite_order_rate: int = DEFAULT_ORDER_RATE
    paper_root: str | None = None
    angel_api_key: str | None = None
    angel_root: str | None = None
    shoonya_root: str | None = None
    shoonya_websocket: str | None = None

    # the users' broker secrets (SSM SecureStrings)
    secrets_prefix: str = DEFAULT_SECRETS_PREFIX
    secrets_kms_key_id: str | None = None

    # the market calendar: `nse` (each segment's sessions less its holidays) or `always` (a practice market);
    # `market_calendar` the holidays per segment as `trading.rules.holidays.encode` writes them (the stacks set
    # it from the shipped files; empty: the shipped files), `market_holidays` more days closed everywhere (ISO
    # dates, comma-separated), `market_special_sessions` e.g. "2026-11-08 NSE,NFO 18:00-19:00" (`;`-separated)
    market_hours: str = "nse"
    market_calendar: str = ""
    market_holidays: str = ""
    market_special_sessions: str = ""

    # basket schedules on EventBridge Scheduler; none without a group
    schedule_group: str = ""
    scheduler_role_arn: str | None = None
    schedule_target_arn: str | None = None

    # the instrument master's daily refresh: Kite's dump (public, no session needed)
    instruments_url: str = KITE_INSTRUMENTS_URL

    # the reconciliation job's users; the stream Lambda's AppSync endpoint
    user_pool_id: str | None = None
    appsync_url: str | None = None

    # the market-data feed service
    feed_instruments: str = ""
    feed_secret_path: str | None = None
    kite_ticker_root: str | None = None
    feed_mark_interval_ms: int = 500

    # how long a publish resolver's delivery marker lives (on AWS AppSync's deliver_once.js writes it with the
    # same `store.spec.DELIVERY_TTL_SECONDS`; a local stack may shorten it with the stream's record age)
    delivery_ttl_seconds: int = DELIVERY_TTL_SECONDS

    @property
    def default_broker(self) -> str:
        return self.broker.lower()

    @property
    def holidays(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day.strip()) for day in self.market_holidays.split(",") if day.strip())

    @property
    def always_open(self) -> bool:
        return self.market_hours == "always"

    @property
    def feed_names(self) -> list[str]:
        return [name.strip() for name in self.feed_instruments.split(",") if name.strip()]

    @property
    def feed_mark_interval(self) -> timedelta:
        return timedelta(milliseconds=self.feed_mark_interval_ms)

    def endpoint_url(self, service: str) -> str | None:
        """The URL of an AWS service's endpoint, when these settings name one (else boto3's own)."""
        return self.endpoint_urls.get(service)

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (tests: another table, another order rate)."""
        return self.model_copy(update=changes)

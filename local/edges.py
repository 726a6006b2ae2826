"""The local stack's AWS edges: moto for DynamoDB, Cognito, SSM and Scheduler, the table, the settings over them,
and AppSync's CORS on the GraphQL endpoint."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from starlette.middleware.cors import CORSMiddleware

from composition.settings import Settings
from local import seed
from local.dynamodb import snapshot
from local.dynamodb.journal import Journal
from local.dynamodb.server import backend_holding, start_moto
from store import connect
from store.spec import create_table

if TYPE_CHECKING:
    from pathlib import Path

    from moto.server import ThreadedMotoServer
    from starlette.types import ASGIApp, Receive, Scope, Send

    from store import DynamoStore

log = logging.getLogger("basketgraph.local")

REGION = "ap-south-1"
PAPER_API_KEY = "paper"
SCHEDULE_GROUP = "basketgraph-local"


def aws_environment() -> None:
    """boto3's own credentials and region for the local endpoints (nothing of ours goes through the environment)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"


@dataclass
class EmbeddedAws:
    """moto serving Cognito, SSM and Scheduler (and DynamoDB unless another endpoint is given)."""

    moto: ThreadedMotoServer
    moto_url: str
    dynamodb_url: str
    dynamodb: Any
    ssm: Any

    @classmethod
    def start(cls, endpoint_url: str | None) -> EmbeddedAws:
        moto, moto_url = start_moto()  # atomic, with the speed-ups where the moto version allows
        dynamodb_url = endpoint_url or moto_url
        return cls(
            moto=moto,
            moto_url=moto_url,
            dynamodb_url=dynamodb_url,
            dynamodb=boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name=REGION),
            ssm=boto3.client("ssm", endpoint_url=moto_url, region_name=REGION),
        )

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION)  # type: ignore[call-overload]


def prepare_table(dynamodb: Any, table_name: str, state_dir: Path | None) -> tuple[DynamoStore, Journal | None]:
    """The table, restored from its journal (embedded only: `state_dir` given), with the seed instruments
    and first marks; the journal, from now on holding every write the embedded DynamoDB acknowledges."""
    create_table(dynamodb, table_name)
    journal = None
    if state_dir is not None:
        journal = Journal(state_dir / "dynamodb")
        restored = journal.install(backend_holding(table_name))
        log.info("restored %d items from %s", restored, journal.directory)
        legacy = state_dir / "dynamodb.json"  # the periodic snapshot of earlier versions
        if legacy.exists():
            moved = snapshot.load(dynamodb, table_name, legacy)  # through the journal now
            legacy.rename(legacy.with_suffix(".json.migrated"))
            log.info("moved %d items from %s into the journal", moved, legacy)
    store = connect(table_name, dynamodb)
    seed.load_seed_instruments(store.instruments)  # the loader `basketgraph instruments load` runs
    seeded = seed.instruments()
    known = store.marks.last_prices([instrument.ref for instrument, _ in seeded])
    now = datetime.now(UTC)
    for instrument, price in seeded:
        if instrument.ref not in known:
            store.marks.put_mark(instrument.ref, price, now)  # seed data, as a restore is
    return store, journal


def local_settings(
    aws: EmbeddedAws, table_name: str, market_hours: str, exchange_url: str, api_secret: str, pool_id: str
) -> Settings:
    """The deployment's settings as the stacks would set them, pointing at the local edges."""
    return Settings(
        table_name=table_name,
        aws_region=REGION,
        endpoint_urls={
            "dynamodb": aws.dynamodb_url,
            "ssm": aws.moto_url,
            "cognito-idp": aws.moto_url,
            "scheduler": aws.moto_url,
        },
        broker="paper",
        kite_api_key=PAPER_API_KEY,
        kite_api_secret=api_secret,
        kite_root=exchange_url,
        kite_ticker_root=exchange_url.replace("http://", "ws://"),
        user_pool_id=pool_id,
        market_hours=market_hours,
        schedule_group=SCHEDULE_GROUP,
        scheduler_role_arn=f"arn:aws:iam::000000000000:role/{SCHEDULE_GROUP}-scheduler",
        schedule_target_arn=f"arn:aws:lambda:{REGION}:000000000000:function:basketgraph-schedules",
    )


APPSYNC_CORS_HEADERS = (
    "authorization",
    "x-api-key",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
    "content-type",
)
"""The request headers AppSync's preflight allows (what Amplify, the AppSync auth link and SigV4 send)."""
APPSYNC_EXPOSED_HEADERS = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage", "Date")
LOCAL_ORIGINS = r"https?://(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?"
"""Any page served from this machine (a Vite dev server, another port, http or https)."""


class AppSyncCors:
    """CORS as AppSync answers it, on the GraphQL endpoint only (`/graphql`, `/graphql/...`): preflights answered
    with AppSync's allowed headers for any local origin. AppSync allows every origin; locally only this machine's
    pages are allowed, and the stack's own `/local/*` routes (which mint tokens) get no CORS at all. The same
    middleware with Cognito's headers serves the local user pool's endpoint (`/cognito-idp`), as Cognito allows
    any origin."""

    def __init__(
        self,
        app: ASGIApp,
        prefix: str = "/graphql",
        allow_headers: tuple[str, ...] = APPSYNC_CORS_HEADERS,
        expose_headers: tuple[str, ...] = APPSYNC_EXPOSED_HEADERS,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(
            app,
            allow_origin_regex=LOCAL_ORIGINS,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=list(allow_headers),
            expose_headers=list(expose_headers),
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

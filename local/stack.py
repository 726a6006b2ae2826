"""The local stack: embedded DynamoDB, Cognito and SSM (moto), the paper exchange, and the AppSync emulator.

Only the edges differ from AWS: endpoint URLs, where keys come from, and the exchange. The resolver,
postback and stream Lambdas are the production handlers, run in pools of execution environments
(processes of their own: `lambda_environments` each for the resolver and postback Lambdas, one for the
stream Lambda, which publishes over IAM-signed HTTP) or, with none, in-process one event at a time.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from composition.feed import mark_feed
from composition.instruments import load_instrument_dump
from composition.runtime import install
from local import seed
from local.admin_routes import Admin, admin_routes
from local.atomic_file import AtomicFile, write_atomically
from local.auth import IamVerifier, JwtVerifier, local_role_credentials
from local.cognito import LocalUserPool
from local.cognito_endpoint import COGNITO_CORS_HEADERS, COGNITO_EXPOSED_HEADERS, cognito_routes
from local.dashboard import dashboard_routes, local_config
from local.dynamodb.server import backend_holding
from local.dynamodb.stream_retention import STREAM_RETENTION_SECONDS
from local.dynamodb.ttl import TtlSweeper
from local.edges import (
    PAPER_API_KEY,
    REGION,
    SCHEDULE_GROUP,
    AppSyncCors,
    EmbeddedAws,
    aws_environment,
    local_settings,
    prepare_table,
)
from local.emulator.endpoint import GraphQLEndpoint
from local.emulator.invoker import LambdaInvoker
from local.emulator.pool import LambdaPool
from local.graphiql import graphiql_routes
from local.lambda_context import LambdaContext
from local.live_updates import LiveUpdates
from local.mark_feed import LocalMarkFeed
from local.market import MarketSimulator
from local.realtime.authorizer import lambda_authorizer
from local.realtime.endpoint import realtime_routes
from local.realtime.messages import MAX_MESSAGE_BYTES
from local.realtime.pubsub import PubSub, routes_from_schema
from local.request_journal import journal_requests, stop_journaling
from local.scheduler import LocalScheduler
from local.tls import LocalCertificate, local_certificate
from schema.export import SCHEMA_FILE, build_schema, export_sdl
from subscriptions.publishers import LocalPublisher
from trading.ids import OwnerId

if TYPE_CHECKING:
    from decimal import Decimal

    from moto.server import ThreadedMotoServer

    from local.dynamodb.journal import Journal
    from local.streams.invocation import StreamHandler
    from trading.model import InstrumentRef
    from trading.model.instrument import Instrument
    from trading.ports import Clock

log = logging.getLogger("basketgraph.local")

DEMO_USER = "demo"
WARM_ENVIRONMENTS = 2  # per pooled Lambda, started with the stack (the first requests find them warm)
STREAM_TIMEOUT_SECONDS = 60.0  # the stream function's timeout (infra/functions.py)
# The stream's lifetimes here are shorter than on AWS (store.spec: records an hour, markers 75 minutes): the
# embedded DynamoDB holds every live item in this process's memory, and a delivery marker is written for each
# event (~20/s with 8 LIVE baskets), so an hour of markers alone was ~350 MiB. A live update undeliverable for
# five minutes is as stale to a local subscriber (who re-queries on reconnect) as one an hour old; a marker
# outlives its record's last redelivery by two minutes, two stream timeouts (the TTL sweeper deletes within
# seconds of expiry, not days later as DynamoDB may). Seven minutes also lets the markers, and the stream records
# of their expiry, level off within a soak's first ten-minute interval.
LOCAL_MAX_RECORD_AGE_SECONDS = 5 * 60
LOCAL_DELIVERY_TTL_SECONDS = LOCAL_MAX_RECORD_AGE_SECONDS + 2 * 60


@dataclass
class StackConfig:
    state_dir: Path = field(default_factory=lambda: Path(".state"))
    host: str = "127.0.0.1"
    port: int = 4000
    endpoint_url: str | None = None
    table_name: str = "Trading"
    market_hours: str = "always"
    simulate_market: bool = True
    tls: bool = False
    """Serve https:// and wss:// with a certificate from a local CA kept in the state directory."""
    clock: Clock | None = None  # the stack's clock (default the system's): a practice day, a holiday in tests
    # Seconds between runs of the reconciliation job (AWS: every 5 minutes in market hours); None: only at start.
    reconcile_every: float | None = None
    # Execution environments per Lambda (resolver, postback), each a process serving one event at a time, as
    # Lambda's concurrency. 0: the handlers run in this process one event at a time, on `self.composition` (what
    # tests replace or instrument in-process: a fake clock, recorded requests); a `clock` forces 0.
    lambda_environments: int = 0
    # How long state about the stream lives (seconds; the defaults are justified where they are defined): a
    # delivery marker, a record the poller still hands over, a record it settled in the embedded stream.
    delivery_ttl: int = LOCAL_DELIVERY_TTL_SECONDS
    max_record_age: float = LOCAL_MAX_RECORD_AGE_SECONDS
    stream_retention: float = STREAM_RETENTION_SECONDS


class LocalStack:
    """Start with `start()`, serve with `serve()` (blocking) or `serve_in_thread()`, end with `stop()`."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state_dir = config.state_dir.resolve()
        self.moto: ThreadedMotoServer | None = None
        self.exchange_server: PaperExchangeServer | None = None
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._background_lock = threading.Lock()
        self.reconciled = threading.Event()  # set once the reconciliation at start has run
        self.journal: Journal | None = None
        self.url = ""
        self.certificate: LocalCertificate | None = None
        self.pools: list[LambdaPool] = []
        self.stream_role = local_role_credentials()  # the stream Lambda's role: the only IAM caller AppSync accepts

    def start(self) -> None:
        """Compose the stack from its parts; each part takes what the earlier ones made."""
        if self.config.delivery_ttl <= self.config.max_record_age:
            raise ValueError("delivery_ttl must exceed max_record_age, or a redelivered record publishes again")
        aws_environment()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.aws = EmbeddedAws.start(self.config.endpoint_url)
        self.moto, self.moto_url = self.aws.moto, self.aws.moto_url
        self.dynamodb, self.ssm = self.aws.dynamodb, self.aws.ssm
        if self.embedded:
            replayed = journal_requests(self.state_dir / "moto-requests.jsonl", self.moto_url)
            log.info("replayed %d SSM and Scheduler writes", replayed)
        self.store, self.journal = prepare_table(
            self.dynamodb, self.config.table_name, self.state_dir if self.embedded else None
        )
        self.users, self.verifier = self._identity()
        self._bind_emulator_port()
        self.exchange, self.exchange_server, self.exchange_url = self._paper_exchange()
        self.settings = local_settings(
            self.aws,
            self.config.table_name,
            self.config.market_hours,
            self.exchange_url,
            self.api_secret,
            self.users.pool_id,
        ).replace(delivery_ttl_seconds=self.config.delivery_ttl, appsync_url=f"{self.url}/graphql")
        # the in-process Lambdas find these settings as a Lambda finds its function's environment
        self.composition = install(self.settings, self.config.clock)
        self.scheduler = self._scheduler()
        self.add_user(DEMO_USER)
        for username in self.users.usernames():
            self.users.ensure_user(username)  # moto forgets users; their sub and sessions are kept
        self.mark_feed = self._mark_feed()
        self.pubsub, self.endpoint, schema, invoker = self._api()
        self.updates = LiveUpdates.compose(
            self.composition,
            LocalPublisher(self.endpoint.execute_as_iam),
            self.dynamodb,
            self.config.table_name,
            self.state_dir,
            resume=self.journal is not None and self.journal.restored_items > 0,
            max_record_age=self.config.max_record_age,
            environments=self._stream_lambda(),
        )
        self.live, self.stream_handler = self.updates.live, self.updates.stream_handler
        self.dead_letters, self.poller = self.updates.dead_letters, self.updates.poller
        # the in-process P&L engine (None when the stream Lambda runs in an environment of its own)
        self.pnl = self.live.pnl.engine if self.live is not None else None
        self.market = self._market()
        self.app = self._app(schema, invoker)
        # Everything built so far (moto, botocore's service models, the schema) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise pause every request
        # (and every subscriber's delivery) for ~0.3 s several times a minute.
        gc.collect()
        gc.freeze()
        for pool in self.pools:  # serve once the Lambdas can answer (their cold starts ran beside the above)
            if not pool.wait_started(WARM_ENVIRONMENTS):
                log.warning("%s: its execution environments are slow to start", pool.function_name)

    @property
    def embedded(self) -> bool:
        return self.config.endpoint_url is None

    def _identity(self) -> tuple[LocalUserPool, JwtVerifier]:
        # one pool per table: stacks sharing a process (tests) share moto's Cognito, and each signs with its own key
        table = self.config.table_name
        pool_name = "basketgraph-local" if table == "Trading" else f"basketgraph-local-{table}"
        users = LocalUserPool(self.aws.client("cognito-idp"), self.state_dir, pool_name=pool_name)
        verifier = JwtVerifier(jwks=users.jwks, issuer=users.issuer, client_ids={users.client_id})
        return users, verifier

    def _bind_emulator_port(self) -> None:
        """Fix the emulator's URL before the exchange needs it for postbacks (port 0 picks a free one)."""
        port = self.config.port
        if port == 0:
            import socket

            with socket.socket() as probe:
                probe.bind((self.config.host, 0))
                port = probe.getsockname()[1]
        self.port = port
        if self.config.tls:
            self.certificate = local_certificate(self.state_dir, [self.config.host])
        self.url = f"{'https' if self.config.tls else 'http'}://{self.config.host}:{port}"

    def _paper_exchange(self) -> tuple[PaperExchange, PaperExchangeServer, str]:
        """The paper exchange over HTTP, resuming at the last marks, posting back to the emulator."""
        self.api_secret = base64.b32encode(os.urandom(20)).decode().lower()
        prices = {instrument.ref: price for instrument, price in seed.instruments()}
        for ref, mark in self.store.marks.last_prices(list(prices)).items():
            prices[ref] = mark  # the market resumes where it was
        exchange = PaperExchange(
            instruments=[instrument for instrument, _ in seed.instruments()],
            prices=prices,
            api_key=PAPER_API_KEY,
            api_secret=self.api_secret,
            postback_url=f"{self.url}/postback/kite",
            postback_ca=str(self.certificate.ca_file) if self.certificate else None,
            book_file=AtomicFile(self.state_dir / "paper-exchange.pickle"),
            clock=self.config.clock,  # one clock for the stack: its sessions roll over on the stack's day
        )
        server = PaperExchangeServer(exchange)
        return exchange, server, server.start(host="127.0.0.1", port=0)

    def add_user(self, username: str) -> dict[str, str]:
        """Create (or find) a local user, connect their paper broker account, and issue a token."""
        user = self.users.ensure_user(username)
        from trading.model.account import BrokerName
        from trading.usecases.accounts import complete_broker_login

        # the same login a user makes with completeBrokerLogin(PAPER, "paper-<me.id>")
        complete_broker_login(self.composition.accounts, OwnerId(user.sub), BrokerName.PAPER, f"paper-{user.sub}")
        tokens = self.users.token(username)
        # `token` is the id token (what curl, gql and GraphiQL send); Amplify's user-pool mode sends the access token.
        # `password` lets a front end sign in through the local Cognito itself (the dashboard does, with Amplify).
        return {
            "username": username,
            "sub": user.sub,
            "token": tokens.id_token,
            "accessToken": tokens.access_token,
            "userPoolId": self.users.pool_id,
            "userPoolClientId": self.users.client_id,
            "password": self.users.password(username),
        }

    def recompose(self, **changes: Any) -> None:
        """Compose the Lambdas afresh from the settings with `changes` (bench: another order rate); pooled
        environments are replaced, as a deploy of new settings replaces a function's environments."""
        self.settings = self.settings.replace(**changes)
        self.composition = install(self.settings, self.config.clock)
        for pool in self.pools:
            pool.reconfigure(self.settings)

    @property
    def environments(self) -> int:
        """Execution environments per pooled Lambda (0: the Lambdas run in-process)."""
        return 0 if self.config.clock is not None else max(0, self.config.lambda_environments)

    def _lambda(self, handler_path: str, in_process: Any, function_name: str) -> Any:
        """The handler `handler_path` in a pool of environments, or `in_process` when the stack has none."""
        if not self.environments:
            return in_process
        pool = LambdaPool(handler_path, self.settings, self.environments, function_name=function_name)
        self.pools.append(pool)
        pool.warm(WARM_ENVIRONMENTS)  # while the stack starts; more start as load needs them
        return pool

    def _stream_lambda(self) -> StreamHandler | None:
        """The stream Lambda in one execution environment (None: in-process). One is the poller's concurrency: it
        hands over one batch at a time, shard after shard, as a mapping with ParallelizationFactor 1 keeps one
        invocation per shard in flight, so a shard's batches stay in order. The environment is composed as on AWS
        (`subscriptions.handler.bootstrap`): it publishes to this stack's GraphQL endpoint signed as the stream
        role, whose credentials it finds where a Lambda finds its role's, and waits out P&L stragglers itself."""
        if not self.environments:
            return None
        role = self.stream_role
        variables = {
            "AWS_ACCESS_KEY_ID": role.access_key,
            "AWS_SECRET_ACCESS_KEY": role.secret_key,
            "AWS_SESSION_TOKEN": role.token or "",
        }
        if self.certificate is not None:
            variables["REQUESTS_CA_BUNDLE"] = str(self.certificate.ca_file)  # https:// to the stack's own CA
        pool = LambdaPool(
            "subscriptions.handler:handler",
            self.settings,
            1,
            function_name="basketgraph-streams",
            timeout=STREAM_TIMEOUT_SECONDS,
            environment=variables,
        )
        self.pools.append(pool)
        pool.warm(1)
        return pool

    def lambda_pids(self) -> list[int]:
        """The process ids of every pooled execution environment now running."""
        return [pid for pool in self.pools for pid in pool.pids()]

    def load_instruments(self, source: str) -> dict[str, object]:
        """`basketgraph instruments load`: a Kite dump (file or URL) through the loader the refresh Lambda runs,
        into the store and the paper exchange (so the new instruments can be traded once they have a price)."""
        stack = self

        class StoreAndExchange:
            def put_instruments(self, instruments: list[Instrument]) -> None:
                stack.store.instruments.put_instruments(instruments)
                stack.exchange.add_instruments(instruments)

        return load_instrument_dump(source, StoreAndExchange()).as_dict()

    def set_prices(self, prices: dict[InstrumentRef, Decimal]) -> None:
        """Move the paper market. With a still market, returns once the feed has written the marks (as on AWS a
        moment later); while the simulator runs, its next tick may move a price before the feed's throttle
        writes it, so there is nothing to wait for."""
        self.exchange.set_prices(prices)
        if not self.config.simulate_market:
            self.mark_feed.wait_for(prices)

    def _mark_feed(self) -> LocalMarkFeed:
        """The production feed on the demo user's paper session, following every seeded instrument."""
        from brokers.kite.accounts import access_token_name

        demo = self.users.ensure_user(DEMO_USER)
        token = self.composition.secrets.get(access_token_name(demo.sub, "paper"))
        if token is None:
            raise RuntimeError("the demo user has no paper session")
        names = [f"{instrument.exchange}:{instrument.tradingsymbol}" for instrument, _ in seed.instruments()]
        feed = mark_feed(self.composition, names)
        ticker_root = self.settings.kite_ticker_root or ""
        running = LocalMarkFeed(feed, self.store.marks, PAPER_API_KEY, token, ticker_root)
        running.start()
        return running

    def _api(self) -> tuple[PubSub, GraphQLEndpoint, Any, LambdaInvoker]:
        """The AppSync emulator: the schema, the resolver Lambda in-process, and the subscription hub."""
        from resolvers import handler as resolver_lambda

        schema = build_schema(caches=True)
        if SCHEMA_FILE.exists() and SCHEMA_FILE.read_text() != export_sdl():
            log.warning("schema/schema.graphql differs from the code; run `basketgraph schema export`")
        in_process = resolver_lambda.make_handler(lambda: self.composition)
        handler = self._lambda("resolvers.handler:handler", in_process, "basketgraph-resolvers")
        invoker = LambdaInvoker(handler, schema, in_process=handler is in_process)
        pubsub = PubSub(routes_from_schema(schema))
        # IAM callers as AppSync takes them: SigV4 signed as the stream role, for this endpoint's host
        iam = IamVerifier(self.stream_role, urlsplit(self.url).netloc, REGION)
        endpoint = GraphQLEndpoint(schema, invoker, self.verifier, publish=pubsub.publish, iam=iam)
        return pubsub, endpoint, schema, invoker

    def _app(self, schema: Any, invoker: LambdaInvoker) -> Starlette:
        from resolvers import postback as postback_lambda

        admin = Admin(
            add_user=self.add_user,
            set_prices=self.set_prices,
            reconcile=self.reconcile,
            load_instruments=self.load_instruments,
            dead_letters=self.dead_letters,
            stream_handler=self.stream_handler,
            postback_handler=self._lambda(
                "resolvers.postback:handler",
                postback_lambda.make_handler(lambda: self.composition),
                "basketgraph-postbacks",
            ),
        )

        def demo_token() -> str:
            return self.users.token(DEMO_USER).id_token

        routes = [
            *dashboard_routes(
                local_config(
                    "/graphql",
                    region=self.users.region,
                    user_pool_id=self.users.pool_id,
                    client_id=self.users.client_id,
                    cognito_endpoint="/cognito-idp",
                )
            ),
            *graphiql_routes(endpoint="/graphql", token_provider=demo_token, subscription_url="/graphql"),
            Route("/graphql", self.endpoint.handle, methods=["POST"]),
            *realtime_routes(schema, self.pubsub, self.verifier, lambda_authorizer(invoker.invoke)),
            *admin_routes(admin),
            *cognito_routes(self.moto_url, "/cognito-idp"),
        ]
        cognito_cors = Middleware(
            AppSyncCors,
            prefix="/cognito-idp",
            allow_headers=COGNITO_CORS_HEADERS,
            expose_headers=COGNITO_EXPOSED_HEADERS,
        )
        return Starlette(routes=routes, middleware=[Middleware(AppSyncCors), cognito_cors])

    def _scheduler(self) -> LocalScheduler:
        """EventBridge Scheduler in moto, fired by a local runner through the production scheduler Lambda."""
        from resolvers import schedules as schedules_lambda

        composed = self.composition
        scheduler = LocalScheduler(
            composed.aws.client("scheduler"),
            SCHEDULE_GROUP,
            schedules_lambda.make_handler(lambda: self.composition.ports),
            self.composition.clock,
            composed.calendar,
        )
        scheduler.ensure_group()
        return scheduler

    def _market(self) -> MarketSimulator:
        """A random walk moving the paper exchange; its ticker carries the moves to the mark feed."""
        return MarketSimulator(
            [instrument for instrument, _ in seed.instruments()],
            self.exchange.last_price,
            self.exchange.set_prices,
            self.composition.clock,
            self.composition.calendar,
            # held instruments move first; the stream Lambda's engine is in another process, so then none do
            held=self.live.pnl.engine.held_instruments if self.live is not None else set,
        )

    def reconcile(self) -> dict[str, Any]:
        """Run the production reconciliation job now over every local user (`basketgraph reconcile`)."""
        from resolvers import reconcile as reconcile_lambda

        return reconcile_lambda.make_handler(lambda: self.composition)(
            {}, cast("Any", LambdaContext("basketgraph-reconcile"))
        )

    def _recover(self) -> None:
        """At start, reconcile every user with the exchange: adopt what it took by tag, settle what it never saw."""
        from trading.usecases.reconciliation import DEFAULT_GRACE

        # twice: orders the exchange never saw are given up once older than the grace a placement gets
        for when in ("start-up", "after the placement grace"):
            try:
                log.info("%s reconciliation: %s", when, self.reconcile())
            except Exception:  # the nightly job and `basketgraph reconcile` run it again
                if self._stop.is_set():
                    return  # the stack stopped under it
                log.exception("%s reconciliation failed", when)
            if self._stop.wait(DEFAULT_GRACE.total_seconds() + 5):
                return

    def _start_background(self) -> None:
        """The background work, then stack.json (the CLI finds this stack by it, as one `basketgraph dev` runs).

        Only once the emulator serves: the pooled stream Lambda publishes to it."""
        with self._background_lock:  # a stop under way waits for this, or this sees the stop and starts nothing
            if not self._stop.is_set():
                self._start_background_threads()
                self._write_stack_file()

    def _start_background_once_serving(self, server: uvicorn.Server) -> None:
        while not server.started:
            if self._stop.wait(0.02):
                return
        self._start_background()

    def _start_background_threads(self) -> None:
        threading.Thread(target=self.updates.drain_pnl, args=(self._stop,), name="pnl-drain", daemon=True).start()
        self.poller.start()
        if self.embedded:
            self.ttl = TtlSweeper(
                backend_holding(self.config.table_name),
                self.config.table_name,
                settled=self._settled,
                retention=self.config.stream_retention,
                journal=self.journal,
            )
            self.ttl.start()
        self.scheduler.start()
        threading.Thread(target=self._recover, name="start-reconcile", daemon=True).start()
        if self.config.simulate_market:
            self.market.start()
        threading.Thread(target=self._reconcile_in_background, name="reconcile", daemon=True).start()

    def _settled(self, shard_id: str) -> int | None:
        """The sequence number of the last record of `shard_id` the poller settled (None: none yet)."""
        checkpoint = self.poller.checkpoints.get(shard_id)
        return int(checkpoint) if checkpoint else None

    def _reconcile_in_background(self) -> None:
        """Reconcile once the emulator serves (postbacks reach it), then every `reconcile_every` seconds.

        The first run resumes what a restart interrupted: exits still EXITING take their next turn.
        """
        deadline = time.monotonic() + 30
        while not (self.server is not None and self.server.started) and time.monotonic() < deadline:
            if self._stop.wait(0.05):
                return
        while not self._stop.is_set():
            try:
                self.reconcile()
            except Exception:  # as a failed scheduled run: logged, and the next run tries again
                log.exception("reconciliation failed")
            self.reconciled.set()
            if self.config.reconcile_every is None or self._stop.wait(self.config.reconcile_every):
                return

    def _server_config(self) -> uvicorn.Config:
        # No permessage-deflate: on loopback it only costs a compression per message per subscriber.
        return uvicorn.Config(
            self.app,
            host=self.config.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws_per_message_deflate=False,
            # a frame a little over the real-time message bound gets its typed refusal; one far over is closed
            # (1009) by the server before it is read whole
            ws_max_size=4 * MAX_MESSAGE_BYTES,
            ssl_certfile=self.certificate.cert_file if self.certificate else None,
            ssl_keyfile=self.certificate.key_file if self.certificate else None,
        )

    def serve_in_thread(self) -> str:
        """Serve the emulator from a background thread (tests); returns its base URL."""
        config = self._server_config()
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the emulator could not serve on {self.config.host}:{self.port}")
            time.sleep(0.02)
        self._start_background()
        return self.url

    def serve(self) -> None:
        """Serve in the foreground until Ctrl-C."""
        config = self._server_config()
        self.server = uvicorn.Server(config)
        threading.Thread(
            target=self._start_background_once_serving, args=(self.server,), name="start-background", daemon=True
        ).start()
        try:
            self.server.run()
        finally:
            self.stop()

    def _write_stack_file(self) -> None:
        info = {
            "url": self.url,
            "pid": os.getpid(),
            "exchange": self.exchange_url,
            "moto": self.moto_url,
            "ca": str(self.certificate.ca_file) if self.certificate else None,
        }
        # atomically: a reader that sees the file sees all of it (tests and `basketgraph` commands poll for it)
        write_atomically(self.state_dir / "stack.json", json.dumps(info), durable=False)

    def save(self) -> None:
        """Make everything acknowledged so far durable (the journal already is; this closes its segment)."""
        if self.journal is not None:
            self.journal.close()

    def stop(self) -> None:
        self._stop.set()
        with self._background_lock:  # what is starting has started; nothing starts after
            pass
        for background in (
            getattr(self, "mark_feed", None),
            getattr(self, "market", None),
            getattr(self, "poller", None),
            getattr(self, "scheduler", None),
            getattr(self, "ttl", None),
        ):
            if background is not None:
                background.stop()
        if getattr(self, "updates", None) is not None:
            self.updates.stop_waking()
        if self.server is not None:
            self.server.should_exit = True
        stopping = [threading.Thread(target=pool.stop, name="lambda-pool-stop") for pool in self.pools]
        for thread in stopping:  # together: each may wait a grace for an invocation in flight
            thread.start()
        for thread in stopping:
            thread.join()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.exchange_server is not None:
            self.exchange_server.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "stack.json").unlink()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        stop_journaling()
        self.save()

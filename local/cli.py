"""`basketgraph`: run the local stack, manage its users, load instruments, export the schema."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.stack import StackConfig

INSTRUMENT_LOAD_TIMEOUT_SECONDS = 900  # about 90,000 rows into the embedded DynamoDB
FIRST_QUERY = '{ me { id username } instruments(search: "NIFTY", exchange: "NFO") { tradingsymbol lotSize } }'
# How often `basketgraph dev` runs the reconciliation job (on AWS: every 5 minutes in market hours).
LOCAL_RECONCILE_SECONDS = 60.0
DEV_LAMBDA_ENVIRONMENTS = 4  # per Lambda: 20 concurrent clients keep both cores busy with four


def _banner(url: str, token: str, state_dir: Path, trust: str | None = None) -> str:
    query = json.dumps({"query": FIRST_QUERY})
    realtime = url.replace("https://", "wss://").replace("http://", "ws://")
    cacert = "--cacert " + str(state_dir / "tls" / "ca.pem") + " " if trust else ""
    tls = f"\n{trust}\n" if trust else ""
    return f"""
basketgraph local stack is up

  GraphQL   {url}/graphql      (POST, Authorization: <token>)
  Real-time {realtime}/graphql/realtime  (AppSync's protocol; Amplify and Apollo derive it from the GraphQL URL)
  GraphiQL  {url}/graphql      (open in a browser; the demo token is filled in)
  Dashboard {url}/             (live P&L; sign in as demo)
  State     {state_dir}        (survives restarts; delete it to start afresh)
{tls}
Demo user token (Cognito id token, valid 1 hour; `basketgraph token` prints a fresh one):

{token}

First query:

  curl -s {cacert}{url}/graphql -H 'Content-Type: application/json' \\
    -H "Authorization: $TOKEN" \\
    -d '{query}'

Ctrl-C stops the stack (data is saved).
"""


def _configure_logging(level: str, log_format: str) -> None:
    """The console is for people: INFO shows what an operator acts on (routine per-batch work is DEBUG,
    summarised once a minute); `--log-format json` writes one JSON object per line for log shippers."""
    handler = logging.StreamHandler()
    if log_format == "json":
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        handler.setFormatter(LambdaPowertoolsFormatter(service="basketgraph-local"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "werkzeug", "urllib3", "kiteconnect"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _with_stream_lifetimes(config: StackConfig, args: argparse.Namespace) -> StackConfig:
    """`config` with the stream lifetimes given; a record age given alone keeps the markers' margin over it."""
    from local.stack import LOCAL_DELIVERY_TTL_SECONDS, LOCAL_MAX_RECORD_AGE_SECONDS

    given = {
        name: getattr(args, name)
        for name in ("delivery_ttl", "max_record_age", "stream_retention")
        if getattr(args, name) is not None
    }
    if "max_record_age" in given and "delivery_ttl" not in given:
        given["delivery_ttl"] = given["max_record_age"] + LOCAL_DELIVERY_TTL_SECONDS - LOCAL_MAX_RECORD_AGE_SECONDS
    if given.get("delivery_ttl", LOCAL_DELIVERY_TTL_SECONDS) <= given.get(
        "max_record_age", LOCAL_MAX_RECORD_AGE_SECONDS
    ):
        raise SystemExit(
            "basketgraph dev: --delivery-ttl must exceed --max-record-age (a redelivered record would publish again)"
        )
    return dataclasses.replace(config, **given)


def _dev(args: argparse.Namespace) -> int:
    from local.malloc_arenas import limit_arenas
    from local.memory_trace import start_if_asked
    from local.stack import DEMO_USER, LocalStack, StackConfig

    limit_arenas()
    start_if_asked()
    _configure_logging(args.log_level, args.log_format)
    config = StackConfig(
        state_dir=Path(args.state_dir),
        host=args.host,
        port=args.port,
        endpoint_url=args.endpoint_url,
        market_hours=args.market_hours,
        simulate_market=not args.still_market,
        tls=args.tls,
        reconcile_every=LOCAL_RECONCILE_SECONDS,
        lambda_environments=args.lambda_environments,
    )
    config = _with_stream_lifetimes(config, args)
    print("starting embedded DynamoDB, Cognito, SSM, the paper exchange and the AppSync emulator...", flush=True)
    stack = LocalStack(config)
    stack.start()
    trust = stack.certificate.trust_help() if stack.certificate else None
    print(_banner(stack.url, stack.users.token(DEMO_USER).id_token, stack.state_dir, trust), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stack.serve()
    print("stopped; data saved in", stack.state_dir)
    return 0


def _running_stack(state_dir: Path) -> str:
    return str(_stack_info(state_dir)["url"])


def _stack_info(state_dir: Path) -> dict[str, str | None]:
    info = state_dir / "stack.json"
    if not info.exists():
        raise SystemExit(f"no local stack is running for {state_dir} (start one with `basketgraph dev`)")
    return dict(json.loads(info.read_text()))


def _open(state_dir: Path, request: urllib.request.Request, timeout: float) -> bytes:
    """The stack's answer; over https (`--tls`) trusting the stack's own CA."""
    ca = _stack_info(state_dir).get("ca")
    context = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:  # noqa: S310 - our own stack
        return bytes(reply.read())


def _user_token(state_dir: Path, username: str) -> dict[str, str]:
    url = _running_stack(state_dir) + "/local/users"
    request = urllib.request.Request(  # noqa: S310 - loopback URL written by our own stack
        url, data=json.dumps({"username": username}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        return dict(json.loads(_open(state_dir, request, 30)))
    except urllib.error.HTTPError as exc:
        raise SystemExit(json.loads(exc.read()).get("error", str(exc))) from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"the local stack at {url} does not answer ({exc.reason}); is it running?") from None


def _user_add(args: argparse.Namespace) -> int:
    user = _user_token(Path(args.state_dir), args.name)
    print(f"user {user['username']} (sub {user['sub']}) is ready; token:\n\n{user['token']}")
    return 0


def _token(args: argparse.Namespace) -> int:
    print(_user_token(Path(args.state_dir), args.name)["token"])
    return 0


def _stack_call(state_dir: Path, path: str, method: str = "GET") -> object:
    url = _running_stack(state_dir) + path
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback URL written by our own stack
    try:
        return json.loads(_open(state_dir, request, 120))
    except urllib.error.URLError as exc:
        raise SystemExit(f"the local stack at {url} does not answer ({exc}); is it running?") from None


def _dlq_list(args: argparse.Namespace) -> int:
    entries = _stack_call(Path(args.state_dir), "/local/dead-letters")
    for entry in entries if isinstance(entries, list) else []:
        change = entry["record"].get("dynamodb", {})
        keys = {k: next(iter(v.values())) for k, v in change.get("Keys", {}).items()}
        print(f"{entry['failedAt']}  {entry['record'].get('eventName')}  {keys}  attempts={entry['attempts']}")
        print(f"    {entry['error']}")
    print(f"{len(entries) if isinstance(entries, list) else 0} dead-lettered stream record(s)")
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    result = _stack_call(Path(args.state_dir), "/local/dead-letters/replay", "POST")
    if not isinstance(result, dict):
        raise SystemExit("unexpected answer from the stack")
    print(f"replayed {result['replayed']}; still failing {result['stillFailing']}")
    return 0 if not result["stillFailing"] else 1


def _reconcile(args: argparse.Namespace) -> int:
    result = _stack_call(Path(args.state_dir), "/local/reconcile", "POST")
    if not isinstance(result, dict):
        raise SystemExit("unexpected answer from the stack")
    print(
        f"{result['owners']} user(s), {result['checked']} unfinished order(s) checked: {result['updated']} updated, "
        f"{result['fills']} fill(s) applied, {result['adopted']} adopted by tag, {result['abandoned']} never placed"
    )
    for problem in result["problems"]:
        print(f"    {problem}")
    return 0 if not result["failed"] else 1


def _instruments_load(args: argparse.Namespace) -> int:
    source = args.source
    if not source.startswith(("http://", "https://")):
        source = str(Path(source).resolve())  # the stack reads it, from its own working directory
    url = _running_stack(Path(args.state_dir)) + "/local/instruments"
    request = urllib.request.Request(  # noqa: S310 - loopback URL written by our own stack
        url, data=json.dumps({"source": source}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=INSTRUMENT_LOAD_TIMEOUT_SECONDS) as reply:  # noqa: S310
            result = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(json.loads(exc.read()).get("error", str(exc))) from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"the local stack at {url} does not answer ({exc.reason}); is it running?") from None
    print(
        f"loaded {result['loaded']} instrument(s); skipped {result['skipped']} row(s) that cannot be traded (indices)"
    )
    if result["withoutMultiplier"]:
        missing = ", ".join(result["withoutMultiplier"])
        print(f"MCX commodities missing from trading/rules/contracts/mcx_multipliers.json (multiplier 1): {missing}")
    return 0


def _schema_export(args: argparse.Namespace) -> int:
    from schema.export import SCHEMA_FILE, export_sdl, write_schema

    if args.check:
        current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if current != export_sdl():
            print(f"{SCHEMA_FILE} is out of date: run `basketgraph schema export`", file=sys.stderr)
            return 1
        print(f"{SCHEMA_FILE} matches the code")
        return 0
    changed = write_schema()
    print(f"{'wrote' if changed else 'unchanged'}: {SCHEMA_FILE}")
    return 0


def _subparser(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose every (nested) subcommand also takes the common options."""

    class Sub(argparse.ArgumentParser):
        def __init__(self, **kwargs: object) -> None:
            parents = list(kwargs.pop("parents", []))  # type: ignore[call-overload]
            super().__init__(parents=[*parents, common], **kwargs)  # type: ignore[arg-type]

    return Sub


def parser() -> argparse.ArgumentParser:
    from brokers.kite.instruments import KITE_INSTRUMENTS_URL

    # --state-dir is accepted before or after the subcommand (`basketgraph --state-dir X dev` or `basketgraph dev
    # --state-dir X`); the subcommands' copy has no default so it never overrides one given before them.
    state_dir_help = "the local stack's data directory (default .state)"
    top = argparse.ArgumentParser(prog="basketgraph", description=__doc__)
    top.add_argument("--state-dir", default=".state", help=state_dir_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", default=argparse.SUPPRESS, help=state_dir_help)
    commands = top.add_subparsers(dest="command", required=True, parser_class=_subparser(common))

    dev = commands.add_parser("dev", help="run the local stack (GraphQL + GraphiQL, DynamoDB, Cognito, paper exchange)")
    dev.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="info",
        help="console log level (default info: routine stream batches are summarised once a minute)",
    )
    dev.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="text (default) or json, one object per line"
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=4000)
    dev.add_argument("--endpoint-url", help="use this DynamoDB instead of the embedded one")
    dev.add_argument(
        "--market-hours",
        choices=["always", "nse"],
        default="always",
        help=(
            "always: the paper market never closes (default); nse: each segment's exchange hours and AMO windows "
            "in IST, less the shipped holidays (trading/rules/holidays/)"
        ),
    )
    dev.add_argument(
        "--still-market", action="store_true", help="do not run the market simulator (prices move only when told)"
    )
    dev.add_argument(
        "--lambda-environments",
        type=int,
        default=DEV_LAMBDA_ENVIRONMENTS,
        help="execution environments (processes) per Lambda, as its concurrency (the stream Lambda then runs in one of "
        "its own, publishing over IAM-signed HTTP); 0 runs the Lambdas in-process, one request at a time "
        f"(default {DEV_LAMBDA_ENVIRONMENTS})",
    )
    dev.add_argument(
        "--tls",
        action="store_true",
        help="serve https:// and wss:// (what Amplify v6 always opens) with a certificate from a local CA "
        "kept in the state directory; prints how to trust it",
    )
    dev.add_argument(
        "--delivery-ttl",
        type=int,
        metavar="SECONDS",
        help="how long a delivery marker lives; must exceed --max-record-age "
        "(default 420: local.stack.LOCAL_DELIVERY_TTL_SECONDS; 4500 on AWS, store.spec.DELIVERY_TTL_SECONDS)",
    )
    dev.add_argument(
        "--max-record-age",
        type=int,
        metavar="SECONDS",
        help="stream records older are dead-lettered, not delivered "
        "(default 300: local.stack.LOCAL_MAX_RECORD_AGE_SECONDS; on AWS 3600, "
        "store.spec.STREAM_MAX_RECORD_AGE_SECONDS)",
    )
    dev.add_argument(
        "--stream-retention",
        type=int,
        metavar="SECONDS",
        help="how long the embedded stream keeps a record the poller settled "
        "(default 60: local.dynamodb.stream_retention.STREAM_RETENTION_SECONDS)",
    )
    dev.set_defaults(run=_dev)

    user = commands.add_parser("user", help="local users").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create a user in the running stack and print its token")
    add.add_argument("name")
    add.set_defaults(run=_user_add)

    token = commands.add_parser("token", help="print a fresh token for a user of the running stack")
    token.add_argument("name", nargs="?", default="demo")
    token.set_defaults(run=_token)

    dlq = commands.add_parser("dlq", help="stream records the stream handler gave up on").add_subparsers(
        dest="action", required=True
    )
    dlq.add_parser("list", help="list them").set_defaults(run=_dlq_list)
    dlq.add_parser("replay", help="hand them to the stream handler again").set_defaults(run=_dlq_replay)

    commands.add_parser(
        "reconcile", help="compare the broker's order book and trades with ours now, repairing missed postbacks"
    ).set_defaults(run=_reconcile)

    instruments = commands.add_parser("instruments", help="the instrument master").add_subparsers(
        dest="action", required=True
    )
    load = instruments.add_parser(
        "load", help="load a Kite instrument dump (file, .gz too, or URL) into the running stack's store"
    )
    load.add_argument("source", metavar="FILE|URL", help=f"e.g. {KITE_INSTRUMENTS_URL} or a saved instruments.csv")
    load.set_defaults(run=_instruments_load)

    schema = commands.add_parser("schema", help="the GraphQL schema").add_subparsers(dest="action", required=True)
    export = schema.add_parser("export", help="write schema/schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail if the committed file differs")
    export.set_defaults(run=_schema_export)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

"""`basketgraph`: run the local stack, manage its users, export the schema."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path

FIRST_QUERY = '{ me { id username } instruments(search: "NIFTY", exchange: "NFO") { tradingsymbol lotSize } }'
# How often `basketgraph dev` runs the reconciliation job (on AWS: every 5 minutes in market hours).
LOCAL_RECONCILE_SECONDS = 60.0


def _banner(url: str, token: str, state_dir: Path) -> str:
    query = json.dumps({"query": FIRST_QUERY})
    return f"""
basketgraph local stack is up

  GraphQL   {url}/graphql      (POST, Authorization: <token>)
  GraphiQL  {url}/graphql      (open in a browser; the demo token is filled in)
  Dashboard {url}/             (live P&L; sign in as demo)
  State     {state_dir}        (survives restarts; delete it to start afresh)

Demo user token (Cognito id token, valid 1 hour; `basketgraph token` prints a fresh one):

{token}

First query:

  curl -s {url}/graphql -H 'Content-Type: application/json' \\
    -H "Authorization: $TOKEN" \\
    -d '{query}'

Ctrl-C stops the stack (data is saved).
"""


def _dev(args: argparse.Namespace) -> int:
    from local.stack import DEMO_USER, LocalStack, StackConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "werkzeug", "urllib3", "kiteconnect"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = StackConfig(
        state_dir=Path(args.state_dir),
        host=args.host,
        port=args.port,
        endpoint_url=args.endpoint_url,
        market_hours=args.market_hours,
        simulate_market=not args.still_market,
        reconcile_every=LOCAL_RECONCILE_SECONDS,
    )
    print("starting embedded DynamoDB, Cognito, SSM, the paper exchange and the AppSync emulator...", flush=True)
    stack = LocalStack(config)
    stack.start()
    print(_banner(stack.url, stack.users.token(DEMO_USER).id_token, stack.state_dir), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stack.serve()
    print("stopped; data saved in", stack.state_dir)
    return 0


def _running_stack(state_dir: Path) -> str:
    info = state_dir / "stack.json"
    if not info.exists():
        raise SystemExit(f"no local stack is running for {state_dir} (start one with `basketgraph dev`)")
    return str(json.loads(info.read_text())["url"])


def _user_token(state_dir: Path, username: str) -> dict[str, str]:
    url = _running_stack(state_dir) + "/local/users"
    request = urllib.request.Request(  # noqa: S310 - loopback URL written by our own stack
        url, data=json.dumps({"username": username}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return dict(json.loads(reply.read()))
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
        with urllib.request.urlopen(request, timeout=120) as reply:  # noqa: S310
            return json.loads(reply.read())
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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="basketgraph", description=__doc__)
    top.add_argument("--state-dir", default=".state", help="the local stack's data directory (default .state)")
    commands = top.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the local stack (GraphQL + GraphiQL, DynamoDB, Cognito, paper exchange)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=4000)
    dev.add_argument("--endpoint-url", help="use this DynamoDB instead of the embedded one")
    dev.add_argument(
        "--market-hours",
        choices=["always", "nse"],
        default="always",
        help="always: the paper market never closes (default); nse: enforce exchange hours in IST",
    )
    dev.add_argument(
        "--still-market", action="store_true", help="do not run the market simulator (prices move only when told)"
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

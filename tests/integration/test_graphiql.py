"""GraphiQL is served offline from node_modules, with the demo token pre-filled, over real HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import uvicorn
from starlette.applications import Starlette

from local.graphiql import NODE_MODULES, GraphiqlAssetsMissing, graphiql_routes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from starlette.routing import BaseRoute

TOKEN = "eyJraWQiOiJkdW1teSJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"
HTML = {"Accept": "text/html,application/xhtml+xml"}
CONFIG_BLOCK = re.compile(r'<script type="application/json" id="graphiql-config">(.*?)</script>', re.S)


def serve(routes: list[BaseRoute]) -> Iterator[str]:
    """Run the routes on uvicorn on a free loopback port; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    yield from serve(graphiql_routes("/graphql", lambda: TOKEN))


@pytest.fixture
def serve_with() -> Iterator[Callable[..., str]]:
    servers: list[Iterator[str]] = []

    def start(**kwargs: object) -> str:
        server = serve(graphiql_routes(**kwargs))  # type: ignore[arg-type]
        servers.append(server)
        return next(server)

    yield start
    for server in servers:
        next(server, None)


def page_config(html: str) -> dict[str, object]:
    match = CONFIG_BLOCK.search(html)
    assert match, "the page carries its settings in a JSON block"
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_browser_gets_graphiql_with_the_demo_token(base_url: str) -> None:
    # Given a browser / When it opens the GraphQL endpoint / Then it gets GraphiQL with the token pre-filled
    response = requests.get(f"{base_url}/graphql", headers=HTML, timeout=5)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert TOKEN in html
    config = page_config(html)
    assert json.loads(str(config["headers"])) == {"Authorization": TOKEN}
    assert config["endpoint"] == "/graphql"
    assert "me {" in str(config["defaultQuery"])
    assert "baskets(" in str(config["defaultQuery"])
    assert "shouldPersistHeaders: true" in html
    assert "GraphiQL.createFetcher(" in html


def test_page_loads_everything_from_our_own_server(base_url: str) -> None:
    html = requests.get(f"{base_url}/graphql", headers=HTML, timeout=5).text

    assert re.findall(r"(?i)(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", html) == [], "no CDN or other host"
    sources = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sources == [
        "/graphiql/react.production.min.js",
        "/graphiql/react-dom.production.min.js",
        "/graphiql/graphiql.min.js",
        "/graphiql/graphiql.min.css",
    ]


@pytest.mark.parametrize(
    ("asset", "content_type", "min_size"),
    [
        ("react.production.min.js", "application/javascript", 5_000),
        ("react-dom.production.min.js", "application/javascript", 100_000),
        ("graphiql.min.js", "application/javascript", 1_000_000),
        ("graphiql.min.css", "text/css", 50_000),
    ],
)
def test_assets_are_served_from_node_modules(base_url: str, asset: str, content_type: str, min_size: int) -> None:
    response = requests.get(f"{base_url}/graphiql/{asset}", timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert len(response.content) >= min_size


def test_non_browser_get_is_pointed_at_post(base_url: str) -> None:
    response = requests.get(f"{base_url}/graphql", headers={"Accept": "application/json"}, timeout=5)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_a_hostile_token_cannot_break_out_of_the_page(serve_with: Callable[..., str]) -> None:
    hostile = '</script><script>alert("x")</script><!--\u2028'
    base = serve_with(token_provider=lambda: hostile)

    html = requests.get(f"{base}/graphql", headers=HTML, timeout=5).text

    block = CONFIG_BLOCK.search(html)
    assert block and "<" not in block.group(1) and "\u2028" not in block.group(1)
    assert html.count("</script>") == 5
    assert json.loads(str(page_config(html)["headers"])) == {"Authorization": hostile}


def test_no_token_leaves_headers_empty_and_subscription_url_passes_through(serve_with: Callable[..., str]) -> None:
    base = serve_with(token_provider=lambda: None, subscription_url="/graphql/realtime")

    config = page_config(requests.get(f"{base}/graphql", headers=HTML, timeout=5).text)

    assert config["headers"] is None
    assert config["subscriptionUrl"] == "/graphql/realtime"


def test_missing_npm_packages_say_to_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(GraphiqlAssetsMissing, match="npm ci"):
        graphiql_routes(token_provider=lambda: TOKEN, node_modules=tmp_path / "node_modules")


# Loads the real UMD bundles in a bare JavaScript context with just enough of a browser, runs the page's
# own inline script, and server-renders the element it hands to createRoot: proves the globals, the
# fetcher and the props fit together without needing a browser.
NODE_HARNESS = r"""
const vm = require("vm"), fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const noop = () => {};
const media = () => ({ matches: false, addListener: noop, removeListener: noop, addEventListener: noop });
const element = { style: {}, setAttribute: noop, appendChild: noop };
const win = {
  console, setTimeout, clearTimeout, fetch, URL, TextEncoder, TextDecoder,
  addEventListener: noop, removeEventListener: noop, matchMedia: media,
  navigator: { userAgent: "node", platform: "Linux" }, location: { href: input.pageUrl },
  localStorage: {
    getItem: (key) => (key in input.storage ? input.storage[key] : null),
    setItem: (key, value) => { input.storage[key] = String(value); },
    removeItem: (key) => { delete input.storage[key]; },
  },
  SVGElement: function () {}, HTMLElement: function () {}, Element: function () {}, Node: function () {},
};
win.window = win; win.self = win; win.globalThis = win;
win.document = {
  readyState: "loading", addEventListener: noop, removeEventListener: noop, querySelector: () => null,
  createElement: () => element, head: element, body: { addEventListener: noop, appendChild: noop },
  documentElement: { style: {} },
  getElementById: (id) => (id === "graphiql-config" ? { textContent: input.config } : element),
};
const ctx = vm.createContext(win);
for (const file of input.scripts) vm.runInContext(fs.readFileSync(file, "utf8"), ctx, { filename: file });
let rendered = null;
win.ReactDOM = Object.assign({}, win.ReactDOM, {
  createRoot: () => ({ render: (el) => { rendered = win.ReactDOMServer.renderToString(el); } }),
});
vm.runInContext(input.inline, ctx, { filename: "inline" });
process.stdout.write(JSON.stringify({ rendered, storage: input.storage }));
"""


def run_page_script(html: str, page_url: str, storage: dict[str, str]) -> dict[str, Any]:
    config = CONFIG_BLOCK.search(html)
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert config and len(inline) == 1
    bundles = [
        "react/umd/react.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
        "react-dom/umd/react-dom-server-legacy.browser.production.min.js",
        "graphiql/graphiql.min.js",
    ]
    payload = {
        "config": config.group(1),
        "inline": inline[0],
        "scripts": [str(NODE_MODULES / bundle) for bundle in bundles],
        "pageUrl": page_url,
        "storage": storage,
    }
    result = subprocess.run(  # noqa: S603 -- fixed harness, our own inputs
        [str(shutil.which("node")), "-e", NODE_HARNESS],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_script_renders_graphiql_with_the_bundles(base_url: str) -> None:
    html = requests.get(f"{base_url}/graphql", headers=HTML, timeout=5).text

    output = run_page_script(html, f"{base_url}/graphql", storage={})

    assert 'class="graphiql-container"' in output["rendered"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_script_puts_the_fresh_token_into_saved_tabs(base_url: str) -> None:
    # Given headers saved by an earlier visit, with a stale token and a header of the user's own
    stale = json.dumps({"Authorization": "stale", "X-Desk": "7"})
    tab_state = {"activeTabIndex": 0, "tabs": [{"id": "t1", "title": "Me", "query": "{ me { id } }", "headers": stale}]}
    storage = {"graphiql:headers": stale, "graphiql:tabState": json.dumps(tab_state)}
    html = requests.get(f"{base_url}/graphql", headers=HTML, timeout=5).text

    # When the page loads again
    saved = run_page_script(html, f"{base_url}/graphql", storage)["storage"]

    # Then every saved Authorization is the fresh token, and nothing else changed
    assert json.loads(saved["graphiql:headers"]) == {"Authorization": TOKEN, "X-Desk": "7"}
    tabs = json.loads(saved["graphiql:tabState"])["tabs"]
    assert [json.loads(tab["headers"]) for tab in tabs] == [{"Authorization": TOKEN, "X-Desk": "7"}]


CHROMIUM = Path("/usr/bin/chromium")


# CI installs chromium (.ci/run), so there a missing browser fails instead of skipping.
@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed")
def test_page_renders_in_headless_chromium(base_url: str, tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 -- fixed browser binary, loopback URL
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{base_url}/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "graphiql-container" in result.stdout
    assert "graphiql-editor" in result.stdout


def test_saved_examples_are_in_the_page_with_the_callers_id_as_owner(base_url: str) -> None:
    # Given the demo token (its `sub` is "demo") / When the page is served / Then it carries the saved examples
    config = page_config(requests.get(f"{base_url}/graphql", headers=HTML, timeout=5).text)

    examples = {example["title"]: example for example in config["examples"]}  # type: ignore[attr-defined]
    assert list(examples) == ["Me", "CreateBasket", "ExecuteBasket", "BasketPnl", "WatchPnl", "WatchOrders"]
    assert examples["Me"]["query"] == config["defaultQuery"]
    assert json.loads(examples["CreateBasket"]["variables"])["input"]["name"] == "NIFTY iron condor"
    assert "executeBasket(basketId: $basketId" in examples["ExecuteBasket"]["query"]
    assert "onPnl(ownerId: $ownerId, basketId: $basketId)" in examples["WatchPnl"]["query"]
    assert json.loads(examples["WatchPnl"]["variables"]) == {"ownerId": "demo"}
    assert json.loads(examples["WatchOrders"]["variables"]) == {"ownerId": "demo"}


def test_examples_without_a_readable_token_ask_for_your_id(serve_with: Callable[..., str]) -> None:
    base = serve_with(token_provider=lambda: "not-a-jwt")

    config = page_config(requests.get(f"{base}/graphql", headers=HTML, timeout=5).text)

    watch = next(e for e in config["examples"] if e["title"] == "WatchPnl")  # type: ignore[attr-defined]
    assert json.loads(watch["variables"]) == {"ownerId": "<your me.id>"}


def test_every_saved_example_is_valid_against_the_schema(base_url: str) -> None:
    from graphql import parse, validate

    from schema.export import build_schema

    schema = build_schema()._schema
    config = page_config(requests.get(f"{base_url}/graphql", headers=HTML, timeout=5).text)

    for example in config["examples"]:  # type: ignore[attr-defined]
        assert validate(schema, parse(example["query"])) == [], example["title"]

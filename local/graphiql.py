"""GraphiQL for the local stack, served offline from the project's own npm packages (no CDN)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from local.seed import demo_basket

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request
    from starlette.routing import BaseRoute

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO_ROOT / "node_modules"
ASSETS_PREFIX = "/graphiql"
TEMPLATE = Path(__file__).with_name("graphiql.html")

DEFAULT_QUERY = """\
# The Authorization header below holds a demo user's token (see the Headers tab).
# Saved examples: the tabs above, or the Examples panel (the "Ex" button on the left).
# Run one operation at a time with the play button.

query Me {
  me {
    id
    username
  }
}

query MyBaskets {
  baskets(limit: 10) {
    items {
      id
      name
      status
      version
      strategies {
        id
        name
      }
      updatedAt
    }
    nextToken
  }
}
"""


@dataclass(frozen=True)
class Example:
    """A saved operation shown as a GraphiQL tab and in the Examples panel."""

    title: str
    description: str
    query: str
    variables: dict[str, object] | None = None


CONDOR = demo_basket()
PASTE_BASKET_ID = "<paste the id CreateBasket returned>"
YOUR_ID = "<your me.id>"


def examples(owner_id: str | None) -> list[Example]:
    """The saved operations; `owner_id` (the demo user's `sub`) fills the subscriptions' ownerId."""
    owner = owner_id or YOUR_ID
    return [
        Example("Me", "Who you are and your latest baskets", DEFAULT_QUERY),
        Example(
            "CreateBasket",
            "Create a NIFTY iron condor (four legs in two strategies) as a DRAFT basket",
            """\
mutation CreateBasket($input: CreateBasketInput!) {
  createBasket(input: $input) {
    id
    name
    status
    version
    strategies { name legs { tradingsymbol side lots } }
  }
}
""",
            {"input": CONDOR},
        ),
        Example(
            "ExecuteBasket",
            "Execute it: BUY legs first; a repeated clientRequestId places nothing",
            """\
mutation ExecuteBasket($basketId: ID!, $clientRequestId: String!) {
  executeBasket(basketId: $basketId, clientRequestId: $clientRequestId) {
    basket { id status statusMessage }
    orders { id side tradingsymbol quantity status statusMessage }
  }
}
""",
            {"basketId": PASTE_BASKET_ID, "clientRequestId": "graphiql-run-1"},
        ),
        Example(
            "BasketPnl",
            "The basket's P&L now, in total and per position",
            """\
query BasketPnl($basketId: ID!) {
  pnl(basketId: $basketId) {
    pnl
    realised
    unrealised
    positions { lastPrice pnl position { tradingsymbol netQuantity } }
  }
}
""",
            {"basketId": PASTE_BASKET_ID},
        ),
        Example(
            "WatchPnl",
            "Subscribe to onPnl (all your baskets, or one: add basketId): ticks as prices move",
            """\
subscription WatchPnl($ownerId: ID!, $basketId: ID) {
  onPnl(ownerId: $ownerId, basketId: $basketId) {
    basketId
    pnl
    realised
    unrealised
    asOf
  }
}
""",
            {"ownerId": owner},
        ),
        Example(
            "WatchOrders",
            "Subscribe to onOrderUpdate: every order change as it happens",
            """\
subscription WatchOrders($ownerId: ID!, $basketId: ID) {
  onOrderUpdate(ownerId: $ownerId, basketId: $basketId) {
    basketId
    order { tradingsymbol side quantity filledQuantity averagePrice status statusMessage }
  }
}
""",
            {"ownerId": owner},
        ),
    ]


JAVASCRIPT = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
SOURCE_MAP = "application/json"


@dataclass(frozen=True)
class Asset:
    name: str
    relative_path: str
    media_type: str
    required: bool = True


ASSETS = (
    Asset("react.production.min.js", "react/umd/react.production.min.js", JAVASCRIPT),
    Asset("react-dom.production.min.js", "react-dom/umd/react-dom.production.min.js", JAVASCRIPT),
    Asset("graphiql.min.js", "graphiql/graphiql.min.js", JAVASCRIPT),
    Asset("graphiql.min.css", "graphiql/graphiql.min.css", CSS),
    # Only for the browser's developer tools; served when present.
    Asset("graphiql.min.js.map", "graphiql/graphiql.min.js.map", SOURCE_MAP, required=False),
    Asset("graphiql.min.css.map", "graphiql/graphiql.min.css.map", SOURCE_MAP, required=False),
)


class GraphiqlAssetsMissing(RuntimeError):
    """The npm packages GraphiQL is served from are not installed."""


def no_token() -> str | None:
    return None


def graphiql_routes(
    endpoint: str = "/graphql",
    token_provider: Callable[[], str | None] = no_token,
    subscription_url: str | None = None,
    node_modules: Path = NODE_MODULES,
) -> list[BaseRoute]:
    """Routes for `GET endpoint` (the GraphiQL page, for browsers) and its assets under `/graphiql/`.

    `token_provider` gives the demo token pre-filled as the `Authorization` header on each page load.
    Raises `GraphiqlAssetsMissing` if the npm packages are not installed (run `npm ci`).
    """
    files = _asset_files(node_modules)
    template = Template(TEMPLATE.read_text(encoding="utf-8"))

    async def page(request: Request) -> Response:
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(
                {"errors": [{"message": f"GET {endpoint} serves GraphiQL to browsers; POST GraphQL requests"}]},
                status_code=405,
                headers={"Allow": "POST"},
            )
        html = render_page(endpoint, token_provider(), subscription_url, template)
        # The page carries a live token: keep it out of caches.
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    routes: list[BaseRoute] = [Route(endpoint, page, methods=["GET"], name="graphiql")]
    for asset in ASSETS:
        path = files.get(asset.name)
        if path is not None:
            routes.append(Route(f"{ASSETS_PREFIX}/{asset.name}", _file_endpoint(path, asset.media_type)))
    return routes


def render_page(
    endpoint: str,
    token: str | None,
    subscription_url: str | None = None,
    template: Template | None = None,
) -> str:
    """The GraphiQL HTML page; values reach the script as JSON in a data block, never as code."""
    config = {
        "endpoint": endpoint,
        "subscriptionUrl": subscription_url,
        "headers": json.dumps({"Authorization": token}, indent=2) if token else None,
        "defaultQuery": DEFAULT_QUERY,
        "examples": [
            {
                "title": example.title,
                "description": example.description,
                "query": example.query,
                "variables": json.dumps(example.variables, indent=2) if example.variables else None,
            }
            for example in examples(_subject(token))
        ],
    }
    template = template or Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(assets=ASSETS_PREFIX, config=_script_safe_json(config))


def _subject(token: str | None) -> str | None:
    """The `sub` claim of a JWT, read without verifying it (only to pre-fill ownerId; the API verifies)."""
    if not token or token.count(".") != 2:
        return None
    part = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def _script_safe_json(value: object) -> str:
    # Inside <script>, "</script>" or "<!--" would end or confuse the block; escape the characters
    # that can start them, plus the line separators older JavaScript parsers choke on.
    text = json.dumps(value)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _asset_files(node_modules: Path) -> dict[str, Path]:
    files = {asset.name: node_modules / asset.relative_path for asset in ASSETS}
    missing = [str(files[a.name]) for a in ASSETS if a.required and not files[a.name].is_file()]
    if missing:
        raise GraphiqlAssetsMissing(
            f"GraphiQL's files are not installed ({', '.join(missing)}); "
            f"run `npm ci` in {node_modules.parent} and start again"
        )
    return {name: path for name, path in files.items() if path.is_file()}


def _file_endpoint(path: Path, media_type: str) -> Callable[[Request], FileResponse]:
    def serve(request: Request) -> FileResponse:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    return serve

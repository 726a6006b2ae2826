"""The live dashboard at `/`: the esbuild bundle of `web/` (built from the project's own npm packages), its page,
and the config that points it at this stack. The same bundle runs against AppSync with a config naming the
AppSync endpoint and a Cognito user pool instead.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from local.seed import DEMO_BASKETS_FILE

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request
    from starlette.routing import BaseRoute

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web"
BUILD_SCRIPT = WEB / "build.mjs"
BUNDLE_FILES = {
    "app.js": "application/javascript; charset=utf-8",
    "app.js.map": "application/json",
    "app.css": "text/css; charset=utf-8",
    "app.css.map": "application/json",
}


class DashboardBuildFailed(RuntimeError):
    """esbuild could not bundle `web/` (or node is missing)."""


def local_config(
    graphql_path: str = "/graphql",
    *,
    region: str = "ap-south-1",
    user_pool_id: str = "",
    client_id: str = "",
    cognito_endpoint: str = "",
) -> dict[str, Any]:
    """Where the dashboard finds the API and how it signs in, on this stack.

    The bundle talks to both through AWS Amplify v6: `graphqlUrl` (relative to the page) is Amplify's
    `API.GraphQL.endpoint`, `auth` its `Auth.Cognito` settings with `userPoolEndpoint` pointed at the local
    Cognito (`/cognito-idp` on the stack, answered by moto). moto's SRP flow accepts any password, so the local
    pool signs in with USER_PASSWORD_AUTH, which checks it. `localUsersUrl` is the local stack's own step before
    that: any user name signs in, the page creates the user (and their paper broker account) there and gets the
    password to sign in with.
    A deployed AppSync's config names its endpoint and user pool instead and has no `localUsersUrl`.
    """
    return {
        "graphqlUrl": graphql_path,
        "graphiqlUrl": graphql_path,
        "region": region,
        "auth": {
            "type": "cognito",
            "region": region,
            "userPoolId": user_pool_id,
            "userPoolClientId": client_id,
            "userPoolEndpoint": cognito_endpoint,
            "authFlowType": "USER_PASSWORD_AUTH",
            "localUsersUrl": "/local/users",
        },
    }


def bundle_is_stale(web: Path = WEB) -> bool:
    """True when the bundle is missing or older than any source it is built from."""
    bundle = web / "dist" / "app.js"
    if not bundle.is_file():
        return True
    # the templates are bundled from the demo baskets' data file, so it is a source too
    sources = [web / "build.mjs", DEMO_BASKETS_FILE, *(p for p in (web / "src").rglob("*") if p.is_file())]
    built = bundle.stat().st_mtime
    return any(source.stat().st_mtime > built for source in sources)


def build_bundle(web: Path = WEB) -> str:
    """Run `node web/build.mjs`; returns esbuild's summary line. Raises `DashboardBuildFailed`."""
    node = shutil.which("node")
    if node is None:
        raise DashboardBuildFailed("node is not installed; the dashboard is built with esbuild from node_modules")
    try:
        result = subprocess.run(  # noqa: S603 -- our own build script, no user input
            [node, str(web / "build.mjs")], capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DashboardBuildFailed("esbuild took more than 2 minutes") from exc
    if result.returncode != 0:
        raise DashboardBuildFailed(f"esbuild failed (run `make web`): {(result.stderr or result.stdout)[-2000:]}")
    return result.stdout.strip()


def ensure_bundle(web: Path = WEB) -> str | None:
    """Build the bundle if it is stale; returns why it could not be built, or None when it is ready."""
    if not bundle_is_stale(web):
        return None
    try:
        log.info("%s", build_bundle(web))
    except DashboardBuildFailed as exc:
        log.warning("dashboard not available: %s", exc)
        return str(exc)
    return None


def dashboard_routes(config: dict[str, Any], web: Path = WEB) -> list[BaseRoute]:
    """`GET /` (the page), `/dashboard/config.json` and the bundle under `/dashboard/`."""
    problem = ensure_bundle(web)

    async def page(_: Request) -> Response:
        if problem is not None or not (web / "dist" / "app.js").is_file():
            message = problem or "the dashboard bundle is missing"
            return HTMLResponse(
                f"<!doctype html><title>basketgraph</title><h1>Dashboard not built</h1><p>{_escape(message)}</p>"
                "<p>Run <code>make web</code> and restart the stack. "
                "GraphiQL is at <a href='/graphql'>/graphql</a>.</p>",
                status_code=503,
            )
        return FileResponse(
            web / "index.html", media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    async def settings(_: Request) -> JSONResponse:
        return JSONResponse(config, headers={"Cache-Control": "no-store"})

    routes: list[BaseRoute] = [
        Route("/", page, methods=["GET"], name="dashboard"),
        Route("/dashboard/config.json", settings, methods=["GET"]),
    ]
    for name, media_type in BUNDLE_FILES.items():
        routes.append(Route(f"/dashboard/{name}", _bundle_file(web / "dist" / name, media_type), methods=["GET"]))
    return routes


def _bundle_file(path: Path, media_type: str) -> Callable[[Request], Response]:
    def serve(_: Request) -> Response:
        if not path.is_file():
            return JSONResponse({"error": f"{path.name} is not built; run `make web`"}, status_code=404)
        # Not fingerprinted: revalidate each load so a rebuilt bundle is picked up.
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return serve


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

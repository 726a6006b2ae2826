"""The resolver Lambda as AppSync invokes it: one root field, one direct-resolver event, handed to an
execution environment (a `LambdaPool`'s, or the stack's own process one event at a time)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import print_ast

from local.emulator.context import ResolveInfo, resolver_event, selection_set_list
from local.lambda_context import LambdaContext

if TYPE_CHECKING:
    import strawberry

Handler = Callable[[dict[str, Any], Any], Any]
MAX_CACHED_SELECTIONS = 4096


class ResolverError(Exception):
    """A Lambda result of the form {"error": {"type", "message"}}, raised as AppSync's util.error does."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class LambdaInvoker:
    """Calls the resolver handler for one root field, as an AppSync direct Lambda resolver does."""

    def __init__(self, handler: Handler, schema: strawberry.Schema, *, in_process: bool = True) -> None:
        """`handler` runs in this process (`in_process`: one event at a time) or is a `LambdaPool`, whose
        environments each serve one event at a time, so requests run concurrently as on AWS."""
        self.handler = handler
        self.schema = schema
        # In-process, the one execution environment handles one event at a time (powertools keeps the
        # current event in class state), so concurrent requests queue here as they would for one instance.
        self._instance: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if in_process else contextlib.nullcontext()
        )
        self._selections: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(field node) -> (node, selection)

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation of the Lambda with a ready-made event (in-process: queued behind any running one)."""
        with self._instance:
            return self.handler(event, LambdaContext())

    def event(self, info: ResolveInfo, identity: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        return resolver_event(info, self.schema, identity, headers, self._selection(info))

    def _selection(self, info: ResolveInfo) -> dict[str, Any]:
        """`selectionSetList` and `selectionSetGraphQL`, worked out once per parsed field.

        The emulator's parse cache hands back the same document for the same query text, so the
        publish mutations (which select every field) are printed once, not per event.
        """
        node = info.field_nodes[0]
        cached = self._selections.get(id(node))
        if cached is None or cached[0] is not node:
            if len(self._selections) >= MAX_CACHED_SELECTIONS:
                self._selections.clear()
            printed = print_ast(node.selection_set) if node.selection_set else ""
            cached = (node, {"selectionSetList": selection_set_list(info), "selectionSetGraphQL": printed})
            self._selections[id(node)] = cached
        return {
            "selectionSetList": list(cached[1]["selectionSetList"]),
            "selectionSetGraphQL": cached[1]["selectionSetGraphQL"],
        }

    def __call__(self, info: strawberry.Info, identity: dict[str, Any], headers: dict[str, str]) -> Any:
        result = self.invoke(self.event(info._raw_info, identity, headers))
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            error = result["error"]
            raise ResolverError(str(error.get("message")), str(error.get("type")))
        return result

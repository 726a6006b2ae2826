"""AppSync's subscription fan-out, in process: a publish mutation's result goes to every subscription
whose non-null arguments equal the result's top-level fields of the same names."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationType,
    SchemaDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    get_operation_ast,
    parse,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import strawberry

INDEX_ARGUMENT = "ownerId"
DEFAULT_MAX_PENDING = 1000
DEFAULT_REMEMBERED_EVENTS = 100_000


class SubscriberDropped(Exception):
    """The subscriber fell too far behind (its queue filled up) and was unsubscribed."""


_END = object()


class Published(dict[str, Any]):
    """One publish's payload, shared by every subscriber it goes to (treat it as read-only).

    `rendered` lets subscribers asking for the same fields shape and serialize it once.
    """

    rendered: dict[str, str]


class Subscription:
    """One subscriber: iterate it (on the loop that subscribed) for payloads; `close()` ends it."""

    def __init__(
        self,
        pubsub: PubSub,
        field: str,
        arguments: Mapping[str, Any],
        loop: asyncio.AbstractEventLoop,
        max_pending: int,
    ) -> None:
        self.field = field
        # AppSync filters on the arguments the client set; a null argument matches everything.
        self.filters = {name: value for name, value in arguments.items() if value is not None}
        self.index_value = self.filters.get(INDEX_ARGUMENT)
        self.closed = False
        self.error: SubscriberDropped | None = None
        self._pubsub = pubsub
        self._loop = loop
        self._max_pending = max_pending
        # Items handed to the loop but not yet taken; guarded by the pubsub lock so a stalled loop
        # cannot grow the loop's callback queue without bound either.
        self._pending = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_pending + 1)

    def matches(self, payload: Mapping[str, Any]) -> bool:
        return all(payload.get(name) == value for name, value in self.filters.items())

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self.closed:
            raise self.error or StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            raise self.error or StopAsyncIteration
        with self._pubsub._lock:
            self._pending -= 1
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Unsubscribe; a pending or later `__anext__` ends the iteration. Call on the subscriber's loop."""
        self._pubsub._remove(self)
        self._end()

    def _reserve(self) -> bool:
        """Count one more payload on its way to this subscriber (pubsub lock held); False drops it."""
        if self._pending >= self._max_pending:
            self.error = SubscriberDropped(
                f"subscription {self.field} fell more than {self._max_pending} updates behind and was dropped;"
                " subscribe again and re-query"
            )
            self._call_on_loop(self._end)
            return False
        self._pending += 1
        return True

    def _deliver(self, payload: dict[str, Any]) -> None:
        if not self.closed:  # a publish that raced a close is not delivered
            self._queue.put_nowait(payload)

    def _call_on_loop(self, callback: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            callback()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is gone with its consumer
                self._loop.call_soon_threadsafe(callback)

    def _end(self) -> None:
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():  # stale updates are not worth delivering after a drop or close
            self._queue.get_nowait()
        self._queue.put_nowait(_END)


class PubSub:
    """Routes publish-mutation results to subscriptions, as `@aws_subscribe(mutations: [...])` does.

    `routes` maps a mutation field to the subscription fields it feeds, e.g.
    `{"publishPnl": ["onPnl"]}` (see `routes_from_schema`). `publish` may be called from any thread;
    subscribers consume on their own asyncio loops.
    """

    def __init__(
        self,
        routes: Mapping[str, list[str]],
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        remembered_events: int = DEFAULT_REMEMBERED_EVENTS,
    ) -> None:
        self.routes = {mutation: list(fields) for mutation, fields in routes.items()}
        self.max_pending = max_pending
        self._remembered = remembered_events
        self._lock = threading.Lock()
        # (subscription field, ownerId or None) -> subscriptions; None holds those without an ownerId
        self._index: dict[tuple[str, Any], dict[int, Subscription]] = {}
        self._ids = itertools.count()
        self._keys: dict[Subscription, int] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    def subscribe(
        self,
        subscription_field: str,
        arguments: Mapping[str, Any],
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Subscription:
        """A subscription delivering onto `loop` (default: the running loop)."""
        target = loop or asyncio.get_running_loop()
        subscription = Subscription(self, subscription_field, arguments, target, self.max_pending)
        key = (subscription_field, subscription.index_value)
        with self._lock:
            number = next(self._ids)
            self._keys[subscription] = number
            self._index.setdefault(key, {})[number] = subscription
        return subscription

    def publish(self, mutation_field: str, payload: Mapping[str, Any], event_id: str | None = None) -> bool:
        """Deliver a mutation's result to every matching subscriber; False when `event_id` was seen before.

        Subscribers are handed the payload in one callback per event loop, not one per subscriber,
        so a thousand subscribers cost the publishing thread one wake-up of their loop.
        """
        fields = self.routes.get(mutation_field, [])
        item = Published(payload)
        item.rendered = {}
        dropped: list[Subscription] = []
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
        with self._lock:
            if event_id is not None:
                if event_id in self._seen:
                    return False
                self._seen[event_id] = None
                if len(self._seen) > self._remembered:
                    self._seen.popitem(last=False)
            owner = item.get(INDEX_ARGUMENT)
            for field in fields:
                for key in {(field, owner), (field, None)}:
                    for subscription in self._index.get(key, {}).values():
                        if not subscription.matches(item):
                            continue
                        if subscription._reserve():
                            by_loop.setdefault(subscription._loop, []).append(subscription)
                        else:
                            dropped.append(subscription)
            for loop, subscriptions in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_deliver_all, subscriptions, item)
                except RuntimeError:  # the loop is closed: nobody there is listening any more
                    dropped.extend(subscriptions)
            for subscription in dropped:
                self._remove_locked(subscription)
        return True

    def subscriber_count(self, subscription_field: str | None = None) -> int:
        with self._lock:
            return sum(len(bucket) for (field, _), bucket in self._index.items() if subscription_field in (None, field))

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._remove_locked(subscription)

    def _remove_locked(self, subscription: Subscription) -> None:
        number = self._keys.pop(subscription, None)
        if number is None:
            return
        key = (subscription.field, subscription.index_value)
        bucket = self._index.get(key)
        if bucket is not None:
            bucket.pop(number, None)
            if not bucket:
                del self._index[key]


def _deliver_all(subscriptions: list[Subscription], item: Published) -> None:
    for subscription in subscriptions:
        subscription._deliver(item)


def routes_from_schema(schema: strawberry.Schema | str | DocumentNode) -> dict[str, list[str]]:
    """Mutation field -> subscription fields, read from `@aws_subscribe(mutations: [...])` in the schema.

    Takes a strawberry schema, SDL text (AppSync's, without directive definitions) or a parsed document.
    """
    if isinstance(schema, DocumentNode):
        document = schema
    elif isinstance(schema, str):
        document = parse(schema)
    else:
        document = parse(schema.as_str())
    subscription_type = "Subscription"
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for operation in definition.operation_types:
                if operation.operation.value == "subscription":
                    subscription_type = operation.type.name.value
    routes: dict[str, list[str]] = {}
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        if definition.name.value != subscription_type:
            continue
        for field in definition.fields or ():
            for directive in field.directives or ():
                if directive.name.value != "aws_subscribe":
                    continue
                for argument in directive.arguments or ():
                    if argument.name.value != "mutations":
                        continue
                    values = argument.value.values if isinstance(argument.value, ListValueNode) else [argument.value]
                    for value in values:
                        if isinstance(value, StringValueNode):
                            targets = routes.setdefault(value.value, [])
                            if field.name.value not in targets:
                                targets.append(field.name.value)
    return routes


def mutation_results(
    routes: Mapping[str, list[str]],
    document: DocumentNode,
    data: Mapping[str, Any] | None,
    operation_name: str | None = None,
) -> list[tuple[str, Mapping[str, Any]]]:
    """What AppSync hands its subscriptions after a request: (mutation field, result) for each root field of
    the executed *mutation* whose field name (never its response key) is routed by `@aws_subscribe`.

    A query or subscription publishes nothing, whatever its response keys are called; an aliased mutation
    field is found under its alias. Who may publish (IAM callers only) is the caller's check.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.MUTATION:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    keys: dict[str, str] = {}  # response key -> field name

    def walk(selection_set: SelectionSetNode, seen: frozenset[str]) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                keys.setdefault(node.alias.value if node.alias else node.name.value, node.name.value)
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments and node.name.value not in seen:
                walk(fragments[node.name.value].selection_set, seen | {node.name.value})

    walk(operation.selection_set, frozenset())
    results: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in (data or {}).items():
        field = keys.get(key)
        if field is not None and field in routes and isinstance(value, Mapping):
            results.append((field, value))
    return results


def publish_mutation_result(pubsub: PubSub, data: Mapping[str, Any] | None, query: str) -> int:
    """Fan a mutation's result out to subscribers, as AppSync does after a successful mutation.

    `data` is the response's `data` for `query`; see `mutation_results` for what is published. Each is
    deduplicated by its `eventId` when it has one. Returns how many root fields were delivered.
    """
    delivered = 0
    for field, value in mutation_results(pubsub.routes, parse(query), data):
        event_id = value.get("eventId")
        if pubsub.publish(field, value, str(event_id) if event_id is not None else None):
            delivered += 1
    return delivered

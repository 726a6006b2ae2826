"""A Lambda function's execution environments, as Lambda keeps them: each invocation goes to a free
environment (the most recently used, so warm ones stay warm), a new one is started (a cold start) while
fewer than the concurrency bound exist, and beyond it the invocation waits for one to come free.

Each environment is a fresh interpreter (`python -m local.emulator.environment`, a socket to it), so it
imports nothing of the stack but its handler and shares none of its threads or locks; `reconfigure` retires
every environment once its invocation is done (new settings, as a deploy does), and `stop` ends them all
within a couple of seconds.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composition.settings import Settings

log = logging.getLogger("basketgraph.local")

COLD_START_SECONDS = 60.0  # importing boto3, powertools and the handler on a busy 2-core machine
STOP_GRACE_SECONDS = 2.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `local`, `resolvers`… are imported from


class InvocationFailed(Exception):
    """The function's runtime reported an error (an unhandled exception, a timeout, the environment died)."""


class _Environment:
    def __init__(self, process: subprocess.Popen[bytes], connection: Connection, generation: int) -> None:
        self.process = process
        self.connection = connection
        self.generation = generation

    def call(self, event: dict[str, Any], request_id: str, timeout: float) -> Any:
        self.connection.send((event, request_id))
        if not self.connection.poll(timeout):
            raise InvocationFailed(f"Task timed out after {timeout:.0f} seconds")
        status, value = self.connection.recv()
        if status != "ok":
            raise InvocationFailed(str(value))
        return value

    def end(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.connection.send(None)
        self.connection.close()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.connection.close()

    def join(self, timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)


class LambdaPool:
    """Up to `concurrency` environments of the handler at `handler_path` ("module:attribute")."""

    def __init__(
        self,
        handler_path: str,
        settings: Settings,
        concurrency: int,
        *,
        function_name: str = "basketgraph-resolvers",
        timeout: float = 30.0,
        environment: dict[str, str] | None = None,
    ) -> None:
        """`environment`: variables the function's environments get beyond the stack's own (a role's
        credentials, as Lambda gives its execution role's through AWS_ACCESS_KEY_ID and the rest)."""
        if concurrency < 1:
            raise ValueError("a pool needs at least one environment")
        self.handler_path = handler_path
        self.function_name = function_name
        self.concurrency = concurrency
        self.timeout = timeout
        self._settings = settings
        self._environment = dict(environment or {})
        self._changed = threading.Condition()
        self._idle: list[_Environment] = []
        self._queue: collections.deque[object] = collections.deque()  # invocations waiting, first come first
        self._all: set[_Environment] = set()
        self._starting = 0
        self._generation = 0
        self._closed = False
        self.cold_starts = 0
        self.invocations = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        """The handler's signature: `(event, context)`; the environment makes its own context with this request id."""
        return self.invoke(event, str(getattr(context, "aws_request_id", "")))

    def invoke(self, event: dict[str, Any], request_id: str = "") -> Any:
        env = self._acquire()
        with self._changed:
            self.invocations += 1
        try:
            result = env.call(event, request_id, self.timeout)
        except (InvocationFailed, EOFError, OSError) as exc:
            if isinstance(exc, InvocationFailed) and env.alive() and "timed out" not in str(exc):
                self._release(env)  # a handler's exception: the environment serves on
            else:
                self._discard(env)
            if isinstance(exc, InvocationFailed):
                raise
            raise InvocationFailed("the execution environment ended during the invocation") from exc
        self._release(env)
        return result

    def warm(self, count: int) -> None:
        """Start `count` environments in the background (the first requests then find them warm)."""

        def start_one() -> None:
            try:
                self._release(self._acquire())
            except Exception:  # the pool was stopped meanwhile, or the environment failed to start
                log.debug("warming an environment failed", exc_info=True)

        for _ in range(min(count, self.concurrency)):
            threading.Thread(target=start_one, name="lambda-warm", daemon=True).start()

    def wait_started(self, count: int, timeout: float = COLD_START_SECONDS) -> bool:
        """Wait until `count` environments (at most the bound) have started; False if they did not in `timeout`."""
        with self._changed:
            wanted = min(count, self.concurrency)
            return self._changed.wait_for(lambda: self._closed or len(self._all) >= wanted, timeout)

    def pids(self) -> list[int]:
        """The environments' process ids (running or idle)."""
        with self._changed:
            return [e.process.pid for e in self._all]

    def reconfigure(self, settings: Settings) -> None:
        """New settings for every invocation from now on: idle environments end, busy ones after their invocation."""
        with self._changed:
            self._settings = settings
            self._generation += 1
            retired, self._idle = self._idle, []
            self._all.difference_update(retired)
            self._changed.notify_all()
        for env in retired:
            env.end()

    def stop(self) -> None:
        """End every environment: idle ones at once, busy ones after a short grace, killed if still running."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for env in idle:
            env.end()
        with self._changed:
            self._changed.wait_for(lambda: not (self._all - set(idle)) and not self._starting, STOP_GRACE_SECONDS)
            everyone = list(self._all)
            self._all.clear()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for env in everyone:
            env.join(max(0.0, deadline - time.monotonic()))
            env.kill()
            env.join(10.0)  # SIGKILL is certain; on a busy machine reaping can take a moment

    def _acquire(self) -> _Environment:
        """A free environment, else a new one within the bound, else the first to come free: invocations that
        wait are served in the order they came (a waiter woken out of turn would starve the others' p99)."""
        with self._changed:
            turn = object()
            self._queue.append(turn)
            try:
                while True:
                    if self._closed:
                        raise InvocationFailed("the function's environments are stopped")
                    if self._queue[0] is turn:
                        if self._idle:
                            return self._idle.pop()
                        if len(self._all) + self._starting < self.concurrency:
                            self._starting += 1
                            settings, generation = self._settings, self._generation
                            break
                    self._changed.wait()
            finally:
                self._queue.remove(turn)
                self._changed.notify_all()  # the next in the queue looks again
        try:
            env = self._start(settings, generation)
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify_all()
            raise
        with self._changed:
            self._starting -= 1
            self._all.add(env)
            self.cold_starts += 1
            self._changed.notify_all()
        return env

    def _start(self, settings: Settings, generation: int) -> _Environment:
        """A cold start: a new process that imports the handler and composes its adapters."""
        ours, theirs = socket.socketpair()
        path = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        command = [sys.executable, "-m", "local.emulator.environment", str(theirs.fileno())]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, self.handler_path, self.function_name],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self._environment, "PYTHONPATH": path},
        )
        theirs.close()
        env = _Environment(process, Connection(ours.detach()), generation)
        try:
            env.connection.send(settings)
            if not env.connection.poll(COLD_START_SECONDS) or env.connection.recv()[0] != "ready":
                raise InvocationFailed("the execution environment did not start")
        except (EOFError, OSError) as exc:
            env.kill()
            raise InvocationFailed("the execution environment failed to start") from exc
        except InvocationFailed:
            env.kill()
            raise
        return env

    def _release(self, env: _Environment) -> None:
        with self._changed:
            keep = not self._closed and env.generation == self._generation and env in self._all
            if keep:
                self._idle.append(env)
            else:
                self._all.discard(env)
            self._changed.notify_all()
        if not keep:
            env.end()

    def _discard(self, env: _Environment) -> None:
        with self._changed:
            self._all.discard(env)
            self._changed.notify_all()
        env.kill()

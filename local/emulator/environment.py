"""One Lambda execution environment: a process of its own that imports its handler once (the cold start),
composes its adapters from the settings it is started with, and serves one invocation at a time.

The process reaches the embedded DynamoDB, SSM, Cognito and the paper exchange over their 127.0.0.1
endpoints (the settings name them), as a Lambda reaches AWS. It ignores Ctrl-C (the terminal sends it to
the whole process group; the stack stops its environments itself) and ends when its pipe closes, so an
environment never outlives a stack killed with SIGKILL.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from local.lambda_context import LambdaContext


def run(connection: Connection, handler_path: str, function_name: str) -> None:
    """The environment's main loop: the settings first, then `(event, request_id)` in, `("ok", result)` or
    `("error", text)` out; None or a closed connection ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from composition.runtime import install

    try:
        settings = connection.recv()
    except (EOFError, OSError):
        return
    install(settings)  # what a Lambda finds in its function's environment
    module, _, attribute = handler_path.partition(":")
    handler = getattr(importlib.import_module(module), attribute)
    connection.send(("ready", None))
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, request_id = message
        reply: tuple[str, Any]
        try:
            reply = ("ok", handler(event, LambdaContext(function_name, aws_request_id=request_id)))
        except Exception as exc:  # the runtime reports an unhandled error; the environment lives on
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return


if __name__ == "__main__":  # python -m local.emulator.environment FD HANDLER_PATH FUNCTION_NAME
    run(Connection(int(sys.argv[1])), sys.argv[2], sys.argv[3])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # nothing to save (a Lambda keeps its state elsewhere): skip the interpreter's teardown

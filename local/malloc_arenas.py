"""Fewer glibc malloc arenas for `basketgraph dev`: what its many short-lived threads free is reused, not kept.

glibc gives each thread that contends for the heap its own arena, up to 8 per core; the stack's request,
stream and timer threads (about twenty, a new one per HTTP connection) each leave theirs holding freed memory
that only that arena can hand out again. In the soak with 8 LIVE baskets the arenas held ~160 MiB free of
~200 MiB; with two arenas (as `MALLOC_ARENA_MAX=2` would) ~30 MiB of ~70 MiB, and the stack's resident
memory ~25 MiB less. The interpreter holds the GIL around almost every allocation, so two arenas cost no
contention. An operator's own `MALLOC_ARENA_MAX` wins; off glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("basketgraph.local")

M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2


def libc() -> ctypes.CDLL:
    """The C library this process runs on (raises OSError where there is none to load)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas at `arenas` (before the stack starts its threads); returns whether it did."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = libc().mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_ARENA_MAX, arenas))
    if not done:
        log.debug("mallopt(M_ARENA_MAX, %d) refused", arenas)
    return done

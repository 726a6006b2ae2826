"""Replace a file's contents atomically: a crash leaves the old file or the new one, never half of one.

The one atomic file write of the local stack: its journals, checkpoints and snapshots, and (as `AtomicFile`)
the paper exchange's book."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse to open directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(path: Path, text: str | bytes, *, durable: bool = True) -> None:
    """Replace `path` with `text` (or bytes) so a crash leaves either the old or the new file, never half of one.

    `durable=False` skips the fsyncs: after a power loss the file may be the previous version (fine
    for checkpoints: records after an older checkpoint are delivered again, and publishing is
    idempotent), at a fraction of the cost per batch.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


class AtomicFile:
    """One file replaced whole and durably (the paper exchange's `BookFile`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def replace(self, data: bytes) -> None:
        write_atomically(self.path, data)

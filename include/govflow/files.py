"""Writing a user's file so that a reader (or a crash) never sees half of it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from govflow.errors import BadInputError

__all__ = ["atomic_write"]

T = TypeVar("T")


def atomic_write(path: Path, write: Callable[[BinaryIO], T], *, mode: int | None = None) -> T:
    """``write`` into a temporary file beside ``path``, then put it in place in one step; ``write``'s result.

    Never half a file: if ``write`` raises, the temporary file is removed and ``path`` is untouched.
    ``mode`` (e.g. ``0o600`` for a secret) is the file's exact mode from its creation on, never
    briefly wider. A folder or file that cannot be created raises ``BadInputError`` naming ``path``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(path.parent / f".tmp-{secrets.token_hex(8)}")
        # 0666 through the process umask, like any file the user writes (0600 under umask 077).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    except OSError as err:
        raise BadInputError(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)  # exactly ``mode``, whatever the umask
            result = write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result

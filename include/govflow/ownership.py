"""Operator-owned configuration, checked like OpenSSH's StrictModes.

A file that grants authority (the roles file, the trusted verification keys)
must be one the account govflow runs as cannot change, now or later. For the
file and every folder above it, both along the path as given (a symlink's own
folder) and along its real path (symlinks resolved), each entry must be:

- owned by root or the configured operator uid (``GOVFLOW_OPERATOR_UID``),
  never by the service uid (``GOVFLOW_SERVICE_UID``, default: the account
  govflow runs as): an owner can chmod its file or folder back to writable;
- not group- or world-writable, except a root-owned sticky folder such as
  ``/tmp`` (nobody else may rename or delete what root put there).

Checked on every load, never cached, so a change after start-up is caught.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from govflow.errors import BadInputError


def service_uid() -> int:
    raw = os.environ.get("GOVFLOW_SERVICE_UID")
    return int(raw) if raw and raw.strip().isdigit() else os.geteuid()


def operator_uids() -> frozenset[int]:
    raw = os.environ.get("GOVFLOW_OPERATOR_UID")
    extra = {int(raw)} if raw and raw.strip().isdigit() else set()
    # govflow running as root could rewrite anything anyway: root stays allowed then.
    return frozenset({0, *extra}) - ({service_uid()} - {0})


def problem(path: Path) -> str | None:
    """Why ``path`` is not operator-owned configuration (None when it is)."""
    allowed = operator_uids()
    given = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    for chain in (_chain(given), _chain(real)):
        for entry in chain:
            try:
                st = os.lstat(entry)
            except FileNotFoundError:
                return f"{entry} does not exist"
            except OSError as err:
                return f"{entry}: {err.strerror or err}"
            if st.st_uid not in allowed:
                owner = (
                    "the service account" if st.st_uid == service_uid() else "neither root nor the operator"
                )
                return f"{entry} is owned by uid {st.st_uid} ({owner})"
            if stat.S_ISLNK(st.st_mode):
                continue  # a link's own mode means nothing; its folder and target are checked
            sticky_root = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and st.st_uid == 0
            if st.st_mode & 0o022 and not sticky_root:
                return f"{entry} is group- or world-writable (mode {st.st_mode & 0o7777:o})"
    return None


def require_operator_owned(path: Path, *, what: str) -> None:
    """Refuse (one line, exit 2) unless ``path`` is operator-owned configuration."""
    why = problem(path)
    if why is not None:
        raise BadInputError(
            f"{what} {path}: {why}; it must be owned by root or the operator (GOVFLOW_OPERATOR_UID), "
            "with every folder above it, and not writable by anyone else"
        )


def _chain(path: Path) -> list[Path]:
    return [path, *path.parents]

"""Keep secrets out of reach of the code a process starts (a sandbox child loading a pickle).

``seal_process`` moves every variable that holds a key itself out of
``os.environ`` into this module's memory (children never inherit them, and
govflow.signing still finds them here) and marks the process non-dumpable
(Linux ``prctl(PR_SET_DUMPABLE, 0)``). The second half matters as much as the
first: ``unsetenv`` does not erase the copy of the environment the kernel
shows in ``/proc/<pid>/environ``, and a same-uid child could read that file or
``/proc/<pid>/mem``; a non-dumpable process's ``/proc`` files belong to root.

Imports nothing from govflow: the checks layer calls it without reaching the store or Airflow.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Variables holding a key itself. An Airflow Variable named by GOVFLOW_SIGNING_KEY_VARIABLE is
# added at seal time (AIRFLOW_VAR_<NAME>).
SECRET_VARIABLES = ("GOVFLOW_SIGNING_KEY", "GOVFLOW_CHECK_SIGNING_KEY")
_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3

_sealed: dict[str, str] = {}


def get(name: str) -> str | None:
    """``os.environ[name]``, or the value seal_process took out of the environment."""
    return os.environ.get(name) or _sealed.get(name)


def secret_names() -> list[str]:
    names = list(SECRET_VARIABLES)
    variable = get("GOVFLOW_SIGNING_KEY_VARIABLE")
    if variable:
        names.append(f"AIRFLOW_VAR_{variable.upper()}")
    return names


def seal_process() -> None:
    """Drop key variables from ``os.environ`` (kept in memory here) and make the process non-dumpable."""
    for name in secret_names():
        value = os.environ.pop(name, None)
        if value:
            _sealed[name] = value
    make_non_dumpable()


def _libc() -> Any:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def make_non_dumpable() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)`` on Linux; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    return bool(_libc().prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)


def is_dumpable() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(_libc().prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 1)


def reset() -> None:
    """Forget sealed values (tests: each test's environment is its own)."""
    _sealed.clear()

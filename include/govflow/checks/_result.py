"""The one result type every check returns, and the provenance of its numbers.

``library_versions`` lists the libraries that ran while the check computed its result.
``details["provenance"]`` says who computed the numbers and what they are tested against:
``engine`` is ``govflow <version>`` where govflow's own code computes them (fairness, drift's
distances) or the library that really does (Great Expectations validates, Presidio scans);
``oracle`` lists the libraries whose results the oracle tests (``pytest -m oracle``) compare
govflow's numbers with, each with the tolerance the test allows (0.0: the test asserts ``==``).
The oracle's version is the installed one, the one those tests ran against.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from govflow.errors import BadInputError
from govflow.vocab import STATUSES, Status

# The checks' name for the shared status vocabulary.
CheckStatus = Status


class CheckInputError(BadInputError):
    """Input a check cannot evaluate (missing column, empty file...): becomes status error."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    ``summary`` is the small JSON of the numbers that matter (stored in the DB);
    ``details`` is the full evidence (written to the artifact store). Neither may
    hold raw PII values. ``details`` keys are also the check-specific top-level
    keys of the CLI's JSON (``expectations``, ``columns``, ``by_group``...).
    """

    check: str
    status: CheckStatus
    summary: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    library_versions: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")

    @classmethod
    def error(cls, check: str, message: str, **kwargs: Any) -> CheckResult:
        return cls(check=check, status="error", errors=[message], **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The CLI/JSON form: contract keys first, check-specific evidence keys next."""
        out: dict[str, Any] = {"check": self.check, "status": self.status, "summary": self.summary}
        out.update(self.details)
        out["errors"] = list(self.errors)
        out["duration_s"] = round(self.duration_s, 6)
        out["library_versions"] = dict(self.library_versions)
        return out


def library_versions(*distributions: str) -> dict[str, str]:
    """Installed versions of the named distributions (recorded as evidence)."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclass(frozen=True)
class Oracle:
    """A library an oracle test compares govflow's numbers with, and the tolerance it allows."""

    library: str  # distribution name
    tolerance: float  # 0.0: equal bits


def provenance(engine: str | None = None, oracles: Iterable[Oracle] = ()) -> dict[str, Any]:
    """``{"engine": "govflow 1.2.0", "oracle": [{"library": "fairlearn 0.15.0", "tolerance": 0.0}]}``.

    ``engine``: the distribution that computed the numbers (default: govflow itself)."""
    from govflow import __version__

    out: dict[str, Any] = {"engine": f"govflow {__version__}"}
    if engine is not None:
        out["engine"] = f"{engine} {library_versions(engine)[engine]}"
    if oracles:
        out["oracle"] = [
            {"library": f"{o.library} {library_versions(o.library)[o.library]}", "tolerance": o.tolerance}
            for o in oracles
        ]
    return out


def timed_check(
    check: str, libraries: Iterable[str] = (), *, engine: str | None = None, oracles: Iterable[Oracle] = ()
) -> Callable:
    """Decorate a check so it is timed, stamped with library versions and provenance
    (``details["provenance"]``, unless the check set its own), and turns ``CheckInputError``
    into a ``status: error`` result instead of a traceback."""
    libs = tuple(libraries)
    tested_against = tuple(oracles)

    def decorate(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
            started = time.perf_counter()
            versions = library_versions(*libs)
            try:
                result = fn(*args, **kwargs)
            except CheckInputError as err:
                return CheckResult.error(
                    check,
                    str(err),
                    duration_s=time.perf_counter() - started,
                    library_versions=versions,
                )
            details = result.details
            if "provenance" not in details:  # a check that knows better (per task, per column) says so
                details = {**details, "provenance": provenance(engine, tested_against)}
            return CheckResult(
                check=result.check,
                status=result.status,
                summary=result.summary,
                details=details,
                duration_s=time.perf_counter() - started,
                library_versions={**versions, **result.library_versions},
                errors=result.errors,
            )

        return wrapper

    return decorate

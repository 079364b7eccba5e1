"""The Great Expectations 1.x adapter: the only module that imports ``great_expectations``.

GX is imported inside the functions (it takes seconds to import). Each run
builds one in-memory (ephemeral) context with analytics and progress bars
off, so nothing is written to disk, sent over the network or drawn on the
terminal.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError
from govflow.checks.validation._suite import ExpectationSpec

if TYPE_CHECKING:
    import pandas as pd

# Keys of an expectation's kwargs that name the columns it reads, by GX domain.
_COLUMN_DOMAIN_KEYS = ("column", "column_A", "column_B", "column_list")
_INDEX_KEY = "govflow_index"


@dataclass(frozen=True)
class BuiltExpectation:
    """A suite entry GX accepted, with the columns it needs from the data."""

    index: int
    spec: ExpectationSpec
    columns: tuple[str, ...]
    expectation: Any  # a great_expectations Expectation


@dataclass(frozen=True)
class Outcome:
    """What GX said about one expectation: success, its ``result`` dict, and any exception it raised."""

    index: int
    success: bool
    result: dict[str, Any]
    exception: str | None


def build_expectations(specs: Sequence[ExpectationSpec], *, source: str) -> list[BuiltExpectation]:
    """Let GX check every entry's type and kwargs; the first bad one becomes a one-line CheckInputError."""
    _quiet_environment()
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.metadata_types import FailureSeverity

    built = []
    for index, spec in enumerate(specs):
        where = f"{source}: expectation #{index + 1} ({spec.type})"
        try:
            configuration = ExpectationConfiguration(
                type=spec.type,
                kwargs=dict(spec.kwargs),
                meta={**spec.meta, _INDEX_KEY: index},
                notes=spec.notes,
                severity=FailureSeverity(spec.severity),
            )
            expectation = configuration.to_domain_obj()
        except ExpectationNotFoundError as err:
            raise CheckInputError(f"{where}: unknown expectation type") from err
        except Exception as err:  # pydantic ValidationError, GX InvalidExpectationConfigurationError...
            raise CheckInputError(f"{where}: invalid kwargs: {_validation_message(err)}") from err
        domain_keys = set(type(expectation).domain_keys)
        columns: list[str] = []
        for key in _COLUMN_DOMAIN_KEYS:
            if key in domain_keys and spec.kwargs.get(key) is not None:
                value = spec.kwargs[key]
                columns.extend(map(str, value) if isinstance(value, (list, tuple)) else [str(value)])
        built.append(BuiltExpectation(index, spec, tuple(columns), expectation))
    return built


def run_expectations(
    frame: pd.DataFrame,
    expectations: Sequence[BuiltExpectation],
    *,
    suite_name: str,
    examples: int,
) -> list[Outcome]:
    """Validate ``frame`` against ``expectations`` in one ephemeral GX context; outcomes in input order."""
    if not expectations:
        return []

    def pandas_batch(context: Any) -> Any:
        asset = context.data_sources.add_pandas("govflow").add_dataframe_asset("table")
        return asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame},
        )

    return _validate(pandas_batch, expectations, suite_name=suite_name, examples=examples)


def run_expectations_sql(
    url: str,
    table: str,
    schema: str | None,
    expectations: Sequence[BuiltExpectation],
    *,
    suite_name: str,
    examples: int,
) -> list[Outcome]:
    """Validate a PostgreSQL table in the database, through GX's SQL execution engine."""
    if not expectations:
        return []

    def sql_batch(context: Any) -> Any:
        source = context.data_sources.add_postgres("govflow", connection_string=url)
        asset = source.add_table_asset("table", table_name=table, schema_name=schema)
        return asset.add_batch_definition_whole_table("whole").get_batch()

    return _validate(sql_batch, expectations, suite_name=suite_name, examples=examples)


def _validate(
    batch_of: Any, expectations: Sequence[BuiltExpectation], *, suite_name: str, examples: int
) -> list[Outcome]:
    _quiet_environment()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": max(examples, 1)}
    try:
        with warnings.catch_warnings():
            # GX warns about its own deprecations; they are not the user's to act on.
            warnings.simplefilter("ignore")
            context = gx.get_context(mode="ephemeral", project_config=config)
            batch = batch_of(context)
            suite = gx.ExpectationSuite(
                name=suite_name,
                expectations=[e.expectation for e in expectations],
            )
            validation = batch.validate(suite, result_format=result_format)
    except Exception as err:
        raise CheckInputError(f"Great Expectations could not run the suite: {_first_line(err)}") from err

    outcomes = []
    for item in validation.results:
        as_json: dict[str, Any] = dict(item.to_json_dict())  # JSON values: typed loosely on purpose
        index = int(as_json["expectation_config"]["meta"][_INDEX_KEY])
        outcomes.append(
            Outcome(
                index=index,
                success=bool(as_json.get("success")),
                result=dict(as_json.get("result") or {}),
                exception=_exception_message(as_json.get("exception_info")),
            )
        )
    # GX groups work by metric, so results come back in its own order.
    return sorted(outcomes, key=lambda o: o.index)


def _exception_message(info: object) -> str | None:
    # GX 1.x reports either one {raised_exception, exception_message} dict or one per failed metric.
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return _first_line(info.get("exception_message")) if info.get("raised_exception") else None
    messages = [
        _first_line(v.get("exception_message"))
        for v in info.values()
        if isinstance(v, dict) and v.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(m for m in messages if m)) or None


def _validation_message(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        try:
            first_by_field: dict[str, str] = {}
            for item in errors():
                loc = ".".join(str(p) for p in item.get("loc", ())) or "kwargs"
                first_by_field.setdefault(loc, item.get("msg", ""))
            return "; ".join(f"{loc}: {msg}" for loc, msg in first_by_field.items())
        except Exception:  # noqa: BLE001 - fall back to the plain message
            pass
    return _first_line(err)


def _first_line(value: object) -> str:
    text = str(value or "").strip()
    text = text.removeprefix("Error: ")
    return text.splitlines()[0] if text else type(value).__name__


def _quiet_environment() -> None:
    # Belt and braces: analytics off for any GX code path that reads the environment.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

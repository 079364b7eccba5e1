"""Expectation suites as reviewable YAML files: load, check the shape, write.

The format is Great Expectations 1.x's own suite JSON, written as YAML so a
person can review it in a pull request::

    name: adult
    meta:
      govflow: {inferred: true, needs_review: true, ...}
    expectations:
      - type: expect_column_values_to_be_between
        kwargs: {column: age, min_value: 17, max_value: 90}
        severity: critical          # optional: critical (default) | warning | info
        meta: {notes: observed 17..90}   # optional, free-form

A JSON suite exported by GX 1.x loads unchanged. Only the shape is checked
here (no GX import); expectation types and their kwargs are checked by GX
when the suite is run (see ``_gx.build_expectations``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govflow.checks._result import CheckInputError
from govflow.hashing import sha256_json

SEVERITIES = ("critical", "warning", "info")
SUITE_SUFFIXES = (".yaml", ".yml", ".json")
_SUITE_KEYS = frozenset({"name", "meta", "expectations", "id", "notes"})
_EXPECTATION_KEYS = frozenset({"type", "kwargs", "meta", "severity", "notes", "description", "id"})
# Keys of Great Expectations 0.x suites, pointed out because 1.x renamed them.
_LEGACY_KEYS = {"expectation_type": "type", "expectation_suite_name": "name"}


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as written in a suite (not yet checked by GX)."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "critical"
    meta: Mapping[str, Any] = field(default_factory=dict)
    notes: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "kwargs": dict(self.kwargs)}
        if self.severity != "critical":
            out["severity"] = self.severity
        if self.meta:
            out["meta"] = dict(self.meta)
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass(frozen=True)
class Suite:
    """A named list of expectations, plus free-form ``meta`` (e.g. who inferred or reviewed it)."""

    name: str
    expectations: tuple[ExpectationSpec, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    source: str = "suite"

    @property
    def needs_review(self) -> bool:
        govflow_meta = self.meta.get("govflow") if isinstance(self.meta, Mapping) else None
        return bool(isinstance(govflow_meta, Mapping) and govflow_meta.get("needs_review"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.meta:
            out["meta"] = dict(self.meta)
        out["expectations"] = [e.to_dict() for e in self.expectations]
        return out

    def content_sha256(self) -> str:
        """Hash of the suite's content (not its formatting): which suite a result was checked against."""

        return sha256_json(self.to_dict())


def load_suite(path: str | Path) -> Suite:
    """Read and shape-check a YAML or JSON suite file; CheckInputError with one clear line if unusable."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise CheckInputError(f"suite file not found: {p}")
    if not p.is_file():
        raise CheckInputError(f"suite is not a file: {p}")
    if p.suffix.lower() not in SUITE_SUFFIXES:
        raise CheckInputError(
            f"unsupported suite file type {p.suffix or '(none)'!r} for {p}: use .yaml, .yml or .json"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CheckInputError(f"cannot read suite {p}: {err}") from err
    try:
        # JSON is valid YAML 1.2 flow syntax for suites, so one loader reads both.
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or type(err).__name__
        raise CheckInputError(f"malformed suite {p}{where}: {problem}") from err
    if document is None:
        raise CheckInputError(f"empty suite file: {p}")
    return parse_suite(document, source=str(p), default_name=p.stem)


def parse_suite(document: object, *, source: str = "suite", default_name: str = "suite") -> Suite:
    """Shape-check a suite document (the parsed YAML/JSON) and build a ``Suite``."""
    if not isinstance(document, Mapping):
        raise CheckInputError(
            f"{source}: a suite must be a mapping with 'name' and 'expectations', got {_kind(document)}"
        )
    _refuse_unknown_keys(document, _SUITE_KEYS, where=source)
    name = document.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise CheckInputError(f"{source}: 'name' must be a non-empty string")
    meta = document.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise CheckInputError(f"{source}: 'meta' must be a mapping, got {_kind(meta)}")
    items = document.get("expectations")
    if items is None:
        raise CheckInputError(f"{source}: missing 'expectations' (a list of {{type, kwargs}} entries)")
    if not isinstance(items, list):
        raise CheckInputError(f"{source}: 'expectations' must be a list, got {_kind(items)}")
    if not items:
        # An empty suite would pass any data: refuse it rather than pass silently.
        raise CheckInputError(f"{source}: the suite has no expectations")
    specs = tuple(
        _parse_expectation(item, where=f"{source}: expectation #{i + 1}") for i, item in enumerate(items)
    )
    return Suite(name=name.strip(), expectations=specs, meta=dict(meta), source=source)


def dump_suite_yaml(document: Mapping[str, Any], *, header: str = "") -> str:
    """YAML text for a suite document, in the written key order.

    Short runs of scalars (kwargs, value sets) go on one line; prose and
    nested structure stay in block style, so a diff of a review reads well.
    """
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _mapping(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
        flow = all(_is_scalar(v) for v in data.values()) and len(str(data)) <= _FLOW_WIDTH
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)

    def _sequence(dumper: yaml.SafeDumper, data: list[Any] | tuple[Any, ...]) -> yaml.Node:
        flow = all(_is_scalar(v) and len(str(v)) <= _FLOW_ITEM for v in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    _Dumper.add_representer(dict, _mapping)
    _Dumper.add_representer(list, _sequence)
    _Dumper.add_representer(tuple, _sequence)
    body = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body


_FLOW_WIDTH = 90
_FLOW_ITEM = 40


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _parse_expectation(item: object, *, where: str) -> ExpectationSpec:
    if not isinstance(item, Mapping):
        raise CheckInputError(f"{where}: must be a mapping with 'type' and 'kwargs', got {_kind(item)}")
    _refuse_unknown_keys(item, _EXPECTATION_KEYS, where=where)
    kind = item.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise CheckInputError(f"{where}: missing 'type' (e.g. expect_column_values_to_not_be_null)")
    kwargs = item.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise CheckInputError(f"{where} ({kind}): 'kwargs' must be a mapping, got {_kind(kwargs)}")
    if any(not isinstance(k, str) for k in kwargs):
        raise CheckInputError(f"{where} ({kind}): 'kwargs' keys must be strings")
    severity = item.get("severity", "critical")
    if severity not in SEVERITIES:
        raise CheckInputError(
            f"{where} ({kind}): severity must be one of {', '.join(SEVERITIES)}, got {severity!r}"
        )
    meta = item.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise CheckInputError(f"{where} ({kind}): 'meta' must be a mapping, got {_kind(meta)}")
    notes = item.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise CheckInputError(f"{where} ({kind}): 'notes' must be a string")
    return ExpectationSpec(
        type=kind.strip(), kwargs=dict(kwargs), severity=severity, meta=dict(meta), notes=notes
    )


def _refuse_unknown_keys(mapping: Mapping, allowed: frozenset[str], *, where: str) -> None:
    for key in mapping:
        if key in allowed:
            continue
        hint = f" (Great Expectations 1.x calls it {_LEGACY_KEYS[key]!r})" if key in _LEGACY_KEYS else ""
        raise CheckInputError(f"{where}: unknown key {key!r}{hint}; allowed: {', '.join(sorted(allowed))}")


def _kind(value: object) -> str:
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return kinds.get(type(value), type(value).__name__)

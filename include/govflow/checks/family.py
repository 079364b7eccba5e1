"""Check families: each declares, in its own subpackage, everything the rest of govflow shows of it.

A family is one kind of check result (``vocab.CHECK_NAMES``). Its subpackage
``govflow.checks.<name>`` holds a ``_family`` module whose ``FAMILY`` is a
``CheckFamily``: how the pipelines run it (a ``checks.running.Pipeline``: its
runner, the data it reads, gate and/or nightly), the policy thresholds it reads,
its summary sentence, its fix texts, its views of stored evidence, its document
facts and caveats, its diff rows and its template partials (in the subpackage's
``templates/`` folder). Both DAGs' check tasks (``service.check_table``), the
gate's fixes, the documents, the Governance view and the diff loop over
``families()``; none of them names a family.

1. ``families()`` imports ``govflow.checks.<name>._family`` for every name of
   the vocabulary, in the vocabulary's order, once (a name without a family
   module has no family: the rest of govflow then shows its results generically);
2. families registered at run time (``register``; a test's toy family) follow;
3. ``family(name)`` is the one declared for ``name``, or ``None``.

Family modules are imported by name, not at the top of this module: they build
on the documents' helpers (scrubbing, facts), and the documents loop over the
families, so a static import either way would make a cycle.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from govflow.checks.running import Pipeline
from govflow.errors import PolicyError
from govflow.policy import Policy, TierPolicy
from govflow.vocab import CHECK_NAMES

if TYPE_CHECKING:
    import jinja2

# How the gate's fixes end: the checks run again once their inputs are fixed.
RERUN = "re-run the checks: govflow submit ... --trigger (or trigger governance_gate for the version)"

# A view is a family's whitelist of its stored evidence (a TypedDict declared beside the family):
# what a document, the Governance view and the diff may show. Plain dicts travel to templates and JSON.
View = Mapping[str, Any]
# The stored result a view reads: the check_results row as a dict, with its loaded ``evidence``
# and ``evidence_problem`` (both documents and the Governance view pass this shape).
StoredResult = Mapping[str, Any]


@dataclass(frozen=True)
class ViewContext:
    """What a view may read besides the evidence: the policy and the version's registered facts."""

    policy: Policy
    tier: TierPolicy
    regions: Sequence[str] = ()
    sector: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # Display-only files beside the version, by ``Attachment.key`` (``service.attachments``): each
    # ``{"data", "sha256", "signed"}``. Untrusted state-volume data: a view may show it, labelled.
    attachments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def allowed_pii(self) -> list[str] | None:
        """The PII entities the policy allows for the model's regions and sector (None: no rule)."""
        try:
            return sorted(self.policy.allowed_pii_entities(list(self.regions), self.sector))
        except PolicyError:
            return None

    def pii_policy_error(self) -> str | None:
        try:
            self.policy.allowed_pii_entities(list(self.regions), self.sector)
        except PolicyError as err:
            return str(err)
        return None


class DocumentRecords(Protocol):
    """What a family's document facts read (``govflow.docs``' facts object)."""

    model: Mapping[str, Any]
    version: Mapping[str, Any]
    policy: Mapping[str, Any]  # name, version, sha256, source, allowed_pii_entities, pii_policy_error
    tier: Mapping[str, Any]
    latest: Mapping[str, Mapping[str, Any]]
    results: Sequence[Mapping[str, Any]]
    views: Mapping[str, Any]

    def check_fact(self, check: str, label: str, describe: Callable[[Mapping[str, Any]], str]) -> Any: ...


@dataclass(frozen=True)
class Attachment:
    """A display-only JSON file beside a version that a family's views may show, never a decision's input.

    ``path`` is relative to the state folder (``$GOVFLOW_HOME``). ``signed_sha256`` is a dotted path
    into the version's registered params holding the file's expected sha256: the service reads it
    from the version's signature-verified registration event, and the file counts as ``signed`` only
    when its bytes hash to that value.
    """

    key: str
    path: str
    signed_sha256: str | None = None


@dataclass(frozen=True)
class FactPart:
    """Facts a family adds to a documentation section, placed before one of the section's own facts."""

    section: str  # a documentation section id (``govflow.docs.SECTIONS``)
    build: Callable[[DocumentRecords], list[Any]]  # -> list of govflow.docs.Fact
    before: str | None = None  # the key of the section fact it precedes; None: at the end


@dataclass(frozen=True)
class DocPart:
    """A template partial a family adds to a document slot (``<slot>.md.j2`` / ``<slot>.html.j2``).

    Slots are named places in the documents (``model_card.quantitative``...); within a slot, parts
    come by ``rank`` (families' parts interleave: fairness's per-group table, then the comparison
    with production, then fairness's explanation).
    """

    slot: str
    rank: int
    template: str  # file stem in the family's templates/ folder (the slot name unless shared)


@dataclass(frozen=True)
class CheckFamily:
    """Everything govflow shows of one kind of check result; see the module docstring."""

    name: str
    # How the DAGs run it (its runner, the data it reads, gate and/or nightly): the service's check
    # table has one row per family with a pipeline. None: the pipelines do not run it as a check.
    pipeline: Pipeline | None = None
    # The TierPolicy field holding its thresholds (``tier.fairness``); None: it reads none.
    thresholds: str | None = None
    # One sentence for lists and the diff; None when the summary lacks what the sentence needs.
    summary_sentence: Callable[[Mapping[str, Any]], str | None] = lambda summary: None
    # Summary keys a document's test log shows (default: the summary's first four).
    log_keys: tuple[str, ...] = ()
    # Gate fix texts: how to give the check its inputs; what to do when it failed (a function of
    # the failed result's summary when the fix is in the evidence, like documentation's).
    fix_inputs: str = "give the check its inputs"
    fix_failed: str | Callable[[Mapping[str, Any]], str] = "fix what the evidence shows"
    waivable: bool = True  # the failed fix offers a reviewer's waiver
    # A required check without a result is a caveat about the model (documentation judges the
    # documents themselves, so its absence is none).
    missing_is_caveat: bool = True
    # The CycloneDX model card's part: check (check, status, summary, details) -> {"task",
    # "metrics", "considerations"}; ``bom_details``: it needs the full evidence (fairness: its groups).
    bom: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    bom_details: bool = False
    # Document views by context key (a family may show more than one: fairness and its explanation).
    views: Callable[[StoredResult | None, ViewContext], Mapping[str, View | None]] = lambda r, c: {}
    # The Governance view's view of one result (the documents' view, plus what only the page shows).
    page_view: Callable[[StoredResult, ViewContext], View | None] | None = None
    # The Governance view's partial (``templates/version.html``) is used when the family has one.
    caveats: Callable[[Mapping[str, Any]], list[str]] = lambda views: []
    caveat_rank: int = 100  # caveats come in this order across families
    facts: tuple[FactPart, ...] = ()
    parts: tuple[DocPart, ...] = ()
    # The HTML documents' charts drawn from the family's views (context -> {chart name: svg}).
    charts: Callable[[Mapping[str, Any]], Mapping[str, Any]] = lambda context: {}
    # Rows the diff of two versions compares (key -> value), from the page view.
    diff_rows: Callable[[View], dict[str, Any]] | None = None
    templates: Path | None = None  # the family's templates/ folder
    # Display-only files its views read beside the stored results: (model, version, registered params)
    # -> the files to look for (``Attachment``); the service reads those that exist.
    attachments: Callable[[str, str, Mapping[str, Any]], Sequence[Attachment]] = lambda m, v, p: ()

    def rules(self, tier: TierPolicy) -> Any:
        """The family's threshold block of ``tier`` (None when it reads none)."""
        return getattr(tier, self.thresholds, None) if self.thresholds else None

    def summary_text(self, summary: Mapping[str, Any]) -> str:
        return self.summary_sentence(summary) or generic_summary(summary)

    def failed_fix(self, summary: Mapping[str, Any]) -> str:
        return self.fix_failed(summary) if callable(self.fix_failed) else self.fix_failed

    def partial(self, name: str) -> str | None:
        """The loader name of one of the family's templates, when it has that file."""
        if self.templates is None or not (self.templates / name).is_file():
            return None
        return f"{self.name}/{name}"


def generic_summary(summary: Mapping[str, Any]) -> str:
    """A result's summary for a family without a sentence: its first few short values."""
    simple = [
        f"{k}: {v}" for k, v in summary.items() if isinstance(v, (int, float, str)) and len(str(v)) < 40
    ]
    return "; ".join(simple[:4])


_registered: dict[str, CheckFamily] = {}


@functools.cache
def _declared() -> tuple[CheckFamily, ...]:
    found = []
    for name in CHECK_NAMES:
        try:
            module = importlib.import_module(f"govflow.checks.{name}._family")
        except ModuleNotFoundError as err:
            if err.name not in (f"govflow.checks.{name}", f"govflow.checks.{name}._family"):
                raise
            continue
        declared: CheckFamily = module.FAMILY
        if declared.name != name:
            raise ValueError(f"govflow.checks.{name}._family declares {declared.name!r}")
        found.append(declared)
    return tuple(found)


def families() -> tuple[CheckFamily, ...]:
    """Every family: the vocabulary's, in its order, then the ones registered at run time."""
    return _declared() + tuple(_registered.values())


def family(name: str | None) -> CheckFamily | None:
    return next((f for f in families() if f.name == name), None)


def names() -> tuple[str, ...]:
    return tuple(f.name for f in families())


@contextmanager
def registered(extra: CheckFamily) -> Iterator[CheckFamily]:
    """``extra`` is a family while the block runs (a plug-in's or a test's toy family)."""
    if extra.name in names():
        raise ValueError(f"a family named {extra.name!r} is already declared")
    _registered[extra.name] = extra
    try:
        yield extra
    finally:
        _registered.pop(extra.name, None)


def template_loader() -> jinja2.BaseLoader:
    """Every family's templates, by ``<family>/<file>``; asked each time, so run-time families count."""
    import jinja2

    def load(name: str) -> tuple[str, str, Callable[[], bool]] | None:
        owner, _, file = name.partition("/")
        declared = family(owner)
        path = declared.templates / file if declared is not None and declared.templates else None
        if path is None or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        return (
            path.read_text(encoding="utf-8"),
            str(path),
            lambda: path.is_file() and path.stat().st_mtime == mtime,
        )

    return jinja2.FunctionLoader(load)


__all__ = [
    "RERUN",
    "Attachment",
    "CheckFamily",
    "DocPart",
    "DocumentRecords",
    "FactPart",
    "StoredResult",
    "View",
    "ViewContext",
    "families",
    "family",
    "generic_summary",
    "names",
    "registered",
    "template_loader",
]

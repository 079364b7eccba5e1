"""What documents and the Governance view may show of PII evidence: entities, rates, masked examples.

Never a raw value: the check stored masked examples only, and they are scrubbed
again like free text before the Governance view shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from govflow.checks.family import DocumentRecords, StoredResult, ViewContext
from govflow.docs import BaseView, Fact, base_view, fact, fmt_number, merged_summary, number, scrub_text

_SUBJECTS = ("person", "other", "unknown")


class PersonKey(TypedDict):
    """A column that keys a person (PERSON_ID), with why: the scan's words, never a value."""

    column: str
    evidence: str | None


class BirthDateGroup(TypedDict):
    """Columns that together make a date of birth (year/month/day, or an age beside a date)."""

    columns: list[str]
    precision: str | None  # day, month, year
    evidence: str | None


class PiiView(BaseView):
    rows: int | None
    columns: list[dict[str, Any]]  # column, entities: [{entity, rate, allowed, (examples)}]
    columns_scanned: int | None
    allowed: list[str] | None
    # What the rows are about (#25); None: the recorded scan predates it (then the lists are empty).
    subject: Literal["person", "other", "unknown"] | None
    subject_reasons: list[str]
    person_identifiers: list[PersonKey]
    birth_date_groups: list[BirthDateGroup]
    about: str | None  # the three above in one sentence (the documents' "Personal data scan" fact)


def pii_view(result: StoredResult | None, *, allowed: Sequence[str] | None) -> PiiView | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = merged_summary(result)
    allowed_set = set(allowed or ())
    columns = []
    raw = evidence.get("columns") or {}
    for name, values in raw.items() if isinstance(raw, Mapping) else ():
        entities = (values or {}).get("entities") if isinstance(values, Mapping) else None
        found = []
        for entity, stats in (entities or {}).items():
            rate = number(stats.get("rate")) if isinstance(stats, Mapping) else None
            found.append(
                {
                    "entity": scrub_text(str(entity)),
                    "rate": rate,
                    "allowed": allowed is not None and entity in allowed_set,
                }
            )
        if found:
            columns.append({"column": scrub_text(str(name)), "entities": found})
    rows = number(summary.get("rows"))
    stored_table = evidence.get("table")
    table: Mapping[str, Any] = stored_table if isinstance(stored_table, Mapping) else {}
    subject = summary.get("subject")
    return {
        **base_view(result),
        "rows": int(rows) if rows is not None else None,
        "subject": subject if subject in _SUBJECTS else None,
        "subject_reasons": [scrub_text(str(r)) for r in _listed(summary.get("subject_reasons"))],
        "person_identifiers": _person_keys(summary, table),
        "birth_date_groups": _birth_date_groups(summary, table),
        "about": pii_about(summary),
        "columns": columns,
        "columns_scanned": len(raw) if isinstance(raw, Mapping) else None,
        "allowed": sorted(allowed_set) if allowed is not None else None,
    }


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _said(value: Any) -> str | None:
    return scrub_text(str(value)) if value else None


def _person_keys(summary: Mapping[str, Any], table: Mapping[str, Any]) -> list[PersonKey]:
    """The summary's PERSON_ID columns, with the evidence's reason for each when it has one."""
    why = {
        str(p.get("column")): p.get("evidence")
        for p in _listed(table.get("person_identifiers"))
        if isinstance(p, Mapping)
    }
    return [
        PersonKey(column=scrub_text(str(c)), evidence=_said(why.get(str(c))))
        for c in _listed(summary.get("person_identifiers"))
    ]


def _birth_date_groups(summary: Mapping[str, Any], table: Mapping[str, Any]) -> list[BirthDateGroup]:
    """The summary's column groups of one date of birth, with precision and reason from the evidence."""
    detail = {
        tuple(str(c) for c in _listed(g.get("columns"))): g
        for g in _listed(table.get("birth_date_groups"))
        if isinstance(g, Mapping)
    }
    out = []
    for group in _listed(summary.get("birth_date_groups")):
        columns = [str(c) for c in _listed(group)]
        found = detail.get(tuple(columns)) or {}
        out.append(
            BirthDateGroup(
                columns=[scrub_text(c) for c in columns],
                precision=_said(found.get("precision")),
                evidence=_said(found.get("evidence")),
            )
        )
    return out


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    return {"pii": pii_view(result, allowed=ctx.allowed_pii())}


def page_view(result: StoredResult, ctx: ViewContext) -> PiiView | None:
    view = pii_view(result, allowed=ctx.allowed_pii())
    if view is not None:
        _add_masked_examples(view, result.get("evidence") or {})
    return view


def _add_masked_examples(view: PiiView, evidence: Mapping[str, Any]) -> None:
    # The check stores masked examples only; scrubbed again like any free text before display.
    columns = evidence.get("columns") or {}
    for column in view["columns"]:
        entities = ((columns.get(column["column"]) or {}).get("entities") or {}) if columns else {}
        for found in column["entities"]:
            stats = entities.get(found["entity"]) or {}
            found["examples"] = [scrub_text(str(e)) for e in (stats.get("examples") or ())[:3]]


def summary_sentence(summary: Mapping[str, Any]) -> str | None:
    if "columns_with_pii" not in summary:
        return None
    return f"PII found in {len(summary.get('columns_with_pii') or [])} column(s)"


def caveats(views: Mapping[str, Any]) -> list[str]:
    pii = views.get("pii")
    out: list[str] = []
    if not pii or pii["allowed"] is None:
        return out
    for column in pii["columns"]:
        for entity in column["entities"]:
            if not entity["allowed"]:
                out.append(
                    f"Column {column['column']} holds {entity['entity']} (rate "
                    f"{fmt_number(entity['rate'])}), not allowed for the model's regions."
                )
    return out


def describe_pii(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    columns = summary.get("columns_with_pii") or []
    found = ", ".join(scrub_text(str(c)) for c in columns) if columns else "no column"
    about = pii_about(summary)
    return f"{r['status']} on {r.get('created_at')}: personal data found in {found}" + (
        f". {about}" if about else ""
    )


def pii_about(summary: Mapping[str, Any]) -> str | None:
    """The scan's table-level facts (#25) in one sentence: subject, person keys, split birth dates."""
    subject = summary.get("subject")
    if not subject:
        return None
    keys = ", ".join(scrub_text(str(c)) for c in summary.get("person_identifiers") or ())
    groups = "; ".join(
        " + ".join(scrub_text(str(c)) for c in g) for g in summary.get("birth_date_groups") or ()
    )
    return (
        f"Rows are about: {scrub_text(str(subject))}. Person identifiers: {keys or 'none'}. "
        f"Dates of birth from several columns: {groups or 'none'}."
    )


def describe_reidentification(summary: Mapping[str, Any], policy_minimum: Any) -> str:
    """k-anonymity and unique rows on the quasi-identifiers the PII check found (no values)."""
    quasi = ", ".join(scrub_text(str(c)) for c in summary.get("quasi_identifiers") or ())
    if not quasi:
        return "no quasi-identifier column found (date of birth, age, sex, postcode, race...)"
    minimum = summary.get("min_k_anonymity", policy_minimum)
    judged = (
        f"policy minimum {minimum}: {'below' if summary.get('below_min_k_anonymity') else 'met'}"
        if minimum is not None
        else "no policy minimum (reported, not judged)"
    )
    share = number(summary.get("unique_share"))
    unique = f"{share:.1%}" if share is not None else "an unknown share"
    return (
        f"k-anonymity {summary.get('k_anonymity')} on quasi-identifiers {quasi}; "
        f"{unique} of rows are unique on them; {judged}"
    )


def data_governance_facts(doc: DocumentRecords) -> list[Fact]:
    """The personal-data scan, the re-identification risk and what the policy allows."""
    allowed = doc.policy.get("allowed_pii_entities")
    regions = ", ".join(doc.model.get("regions") or ()) or "(none)"
    error = doc.policy.get("pii_policy_error")
    policy_error = f": {error}" if error else ""
    return [
        doc.check_fact("pii", "Personal data scan", describe_pii),
        _reidentification(doc),
        fact(
            "allowed_pii",
            "PII entities the policy allows",
            ", ".join(allowed) if allowed else ("none" if allowed is not None else None),
            source="policy",
            gap=f"the policy has no PII rule for regions {regions}{policy_error}",
        ),
    ]


def _reidentification(doc: DocumentRecords) -> Fact:
    """The PII check's k-anonymity and unique share. Never a gap of its own: a missing or failed
    scan is the personal-data scan fact's gap, and older scans did not measure it."""
    result = doc.latest.get("pii") or {}
    summary = result.get("summary") or {}
    if result.get("status") in (None, "error") or result.get("evidence_problem"):
        value = "not measured: no usable personal-data scan"
    elif "k_anonymity" not in summary:
        value = "not measured: the recorded scan predates k-anonymity (re-run the pii check)"
    else:
        value = describe_reidentification(summary, (doc.tier.get("pii") or {}).get("min_k_anonymity"))
    return Fact(key="reidentification", label="Re-identification risk", source="evidence", value=value)


def diff_rows(view: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for column in view.get("columns") or ():
        for found in column["entities"]:
            allowed = "allowed" if found.get("allowed") else "not allowed"
            out[f"{column['column']} · {found['entity']}"] = f"{found.get('rate')} ({allowed})"
    return out

"""Measured mitigations in the documents: the frontier chart, the challenger's lineage, the source label.

Pure: ``build_context`` over ``DocInputs`` whose ``attachments`` carry what
``service.attachments`` reads from the state volume (the service side is tested
in ``test_mitigate_cli``).
"""

from __future__ import annotations

import re

from govflow.docs import build_context, render_document
from tests.unit.test_docs import full_inputs, parse

EVIDENCE = {
    "status": "ok",
    "task": "binary",
    "constraint": "equalized_odds",
    "disparity_metric": "equalized_odds_difference",
    "primary_metric": "accuracy",
    "limit": 0.1,
    "sensitive": ["sex"],
    "split": {"rows": 5000, "fit_rows": 2500, "held_out_rows": 2500},
    "bootstrap": {"replicates": 200, "seed": 0},
    "baseline": {
        "name": "unmitigated",
        "method": "none",
        "primary_metric": 0.842,
        "disparity": 0.1812,
        "intervals": {"primary": [0.83, 0.855], "disparity": [0.14, 0.22]},
        "needs_sensitive_feature_at_prediction": False,
    },
    "candidates": [
        {
            "name": "threshold:equalized_odds",
            "method": "threshold",
            "primary_metric": 0.831,
            "disparity": 0.031,
            "intervals": {"primary": [0.82, 0.843], "disparity": [0.012, 0.06]},
            "needs_sensitive_feature_at_prediction": True,
            "parameters": {"constraints": "equalized_odds"},
        },
        {
            "name": "reweight:equalized_odds",
            "method": "reweight",
            "primary_metric": 0.84,
            "disparity": 0.15,
            "intervals": {"primary": [0.83, 0.85], "disparity": [0.11, 0.19]},
            "needs_sensitive_feature_at_prediction": False,
        },
    ],
    "recommendation": {
        "candidate": "threshold:equalized_odds",
        "method": "threshold",
        "why": "the best accuracy among the candidates within the policy's limit (0.1)",
        "within_limit": True,
        "disparity": 0.031,
        "disparity_before": 0.1812,
        "primary_metric": 0.831,
        "primary_metric_before": 0.842,
        "cost": 0.011,
        "needs_sensitive_feature_at_prediction": True,
    },
    # Untrusted state-volume text: a planted address must be scrubbed like any free text.
    "findings": ["Recommended: threshold:equalized_odds; questions to jane.roe@example.com"],
    "legal_note": "ThresholdOptimizer applies a different threshold to each group.",
    "version": {"model": "adult-income", "version": "1.3.0"},
    "measured_by": "gate",
}
LINEAGE = {
    "derived_from": "adult-income@1.3.0",
    "method": "threshold",
    "constraint": "equalized_odds",
    "parameters": {
        "estimator": "fairlearn.postprocessing.ThresholdOptimizer",
        "random_state": 0,
        "groups": {"Female": {"p0": 0.25, "threshold0": 0.31}, "Male": {"p0": 1.0, "threshold0": 0.5}},
    },
    "held_out": {
        "disparity": 0.031,
        "disparity_before": 0.1812,
        "disparity_metric": "equalized_odds_difference",
    },
    "needs_sensitive_feature_at_prediction": True,
    "evidence_sha256": "e" * 64,
}


def measured(signed: bool = False, **changes: object) -> dict[str, object]:
    return {"data": {**EVIDENCE, **changes}, "sha256": "e" * 64, "signed": signed}


def challenger_inputs(signed: bool = True):  # type: ignore[no-untyped-def]
    inputs = full_inputs(attachments={"mitigation_lineage": measured(signed)})
    params = {**inputs.version["params"], "mitigation": LINEAGE}
    return full_inputs(
        version={**inputs.version, "params": params}, attachments={"mitigation_lineage": measured(signed)}
    )


def test_a_version_with_measured_mitigations_shows_the_labelled_frontier_chart() -> None:
    html = render_document(
        build_context(full_inputs(attachments={"mitigation": measured()})), kind="model_card", fmt="html"
    )
    parse(html)
    svg = re.search(r'<svg[^>]*aria-label="Trade-off frontier[^"]*".*?</svg>', html, re.S)
    assert svg is not None
    chart = svg.group(0)
    # Axes named, the policy's limit as a line, the recommendation marked.
    assert "equalized odds difference (lower is fairer)" in chart and "accuracy (held-out rows)" in chart
    assert "limit 0.100" in chart and "threshold:equalized_odds (recommended)" in chart
    # The dots left of the limit line are exactly the candidates within it.
    limit_x = float(re.search(r'<line x1="([\d.]+)"[^>]*stroke="#D55E00" stroke-width="2"', chart).group(1))
    dots = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="6"[^>]*><title>(.+?): equalized', chart)
    assert len(dots) == 3
    assert {name for x, name in dots if float(x) < limit_x} == {"threshold:equalized_odds"}
    assert "measured by the gate&#39;s mitigation task (unsigned)" in html
    assert "jane.roe@example.com" not in html


def test_markdown_has_the_frontier_table_and_the_recommendation() -> None:
    md = render_document(
        build_context(full_inputs(attachments={"mitigation": measured()})), kind="model_card", fmt="md"
    )
    assert "### Mitigations measured: the trade-off frontier" in md
    row = (
        "| threshold:equalized_odds **(recommended)** | threshold | 0.831 [0.820, 0.843] "
        "| 0.031 [0.012, 0.060] | yes |"
    )
    assert row in md
    assert "| unmitigated | none | 0.842 [0.830, 0.855] | 0.181 [0.140, 0.220] | no |" in md
    assert "0.181 → 0.031 for a cost of 0.011 in accuracy" in md
    assert "measured by the gate's mitigation task (unsigned)" in md
    assert "jane.roe@example.com" not in md


def test_a_challenger_card_shows_its_lineage_and_the_verified_frontier_it_was_chosen_from() -> None:
    context = build_context(challenger_inputs(signed=True))
    md = render_document(context, kind="model_card", fmt="md")
    assert "### Lineage: a mitigated challenger" in md
    assert "Derived from **adult-income@1.3.0** by threshold (equalized odds)" in md
    assert "| estimator | fairlearn.postprocessing.ThresholdOptimizer |" in md
    assert "Female: p0: 0.25, threshold0: 0.31" in md
    assert "It reads each person's sensitive attribute when it predicts." in md
    assert "verified: its sha256 is the one in the challenger's signed registration" in md
    html = render_document(context, kind="model_card", fmt="html")
    parse(html)
    assert "Lineage: a mitigated challenger" in html and 'aria-label="Trade-off frontier' in html


def test_a_frontier_file_that_does_not_match_the_signed_registration_says_so() -> None:
    md = render_document(build_context(challenger_inputs(signed=False)), kind="model_card", fmt="md")
    assert "unverified: its sha256 is not the one in the challenger's signed registration" in md
    assert "verified: its sha256 is the one" not in md


def test_the_measured_frontier_reads_nothing_that_decides() -> None:
    # The documentation check judges sections from registry and evidence facts: attachments change
    # what a card shows, never its completeness.
    plain, shown = (
        build_context(full_inputs()),
        build_context(full_inputs(attachments={"mitigation": measured()})),
    )
    assert plain["sections"] == shown["sections"] and plain["caveats"] == shown["caveats"]
    assert plain["mitigation_frontier"] is None and shown["mitigation_frontier"]["signed"] is False


def test_malformed_attachments_show_nothing() -> None:
    for data in ({}, {"candidates": "many"}, {"candidates": [1, "x"], "baseline": "none"}):
        context = build_context(
            full_inputs(attachments={"mitigation": {"data": data, "sha256": "", "signed": False}})
        )
        html = render_document(context, kind="model_card", fmt="html")
        parse(html)
        assert "Trade-off frontier" not in html or context["mitigation_frontier"]["points"] == []


def test_the_governance_view_shows_the_frontier_beside_the_gate_result_only() -> None:
    import jinja2

    from govflow.checks.fairness._view import page_view
    from govflow.checks.family import ViewContext, template_loader
    from govflow.policy import load_policy

    policy = load_policy()
    ctx = ViewContext(
        policy=policy,
        tier=policy.tier("high"),
        params={"mitigation": LINEAGE},
        attachments={"mitigation_lineage": measured(True)},
    )
    result = {
        "status": "pass",
        "summary": {"equalized_odds_difference": 0.03},
        "evidence": {},
        "kind": "gate",
    }
    env = jinja2.Environment(loader=template_loader(), autoescape=True)
    env.globals["pct"] = lambda x: "—" if x is None else f"{float(x) * 100:.0f}%"
    page = env.get_template("fairness/version.html").render(w=page_view(result, ctx))
    assert 'id="fairness-frontier"' in page and 'aria-label="Trade-off frontier' in page
    assert "derived from <strong>adult-income@1.3.0</strong> by threshold" in page
    assert "verified: its sha256 is the one in the challenger&#39;s signed registration" in page
    monitoring = page_view({**result, "kind": "monitoring"}, ctx)
    assert monitoring is not None and "mitigation_frontier" not in monitoring

"""The Annex IV document shows, per rule pack that applies, each obligation evidenced or missing,
computed while it is rendered (checks passed so far, its own section scores)."""

from __future__ import annotations

from govflow.artifacts import ArtifactStore
from govflow.service import docs
from govflow.store import session_scope
from tests.integration.test_docs_service import full_version, sparse_version  # noqa: F401


def _annex(version, fmt):
    with session_scope() as s:
        result = docs.render_docs(s, *version, fmt, actor="alice")
    return ArtifactStore().get_bytes(result["documents"][1]["uri"]).decode()


def test_the_annex_lists_each_applying_packs_obligations_with_their_evidence(full_version):  # noqa: F811
    # adult-income: high tier, EU, finance; validation, pii, fairness and drift passed; no
    # documentation or performance result; the lifecycle section is 67% complete.
    text = _annex(full_version, "md")
    packs = text[text.index("## Rule packs: obligations and their evidence") : text.index("## Documentation")]
    assert "**EU AI Act, high-risk systems" in packs and "5 of 8 obligation(s) evidenced" in packs
    assert "| Art. 9 | Risk management system | evidenced |" in packs
    assert "| Art. 11 | Technical documentation (Annex IV) | missing: check documentation |" in packs
    assert "| Art. 12 | Record-keeping (automatic logs) | missing: section lifecycle |" in packs
    # No approval yet: neither an independent validation nor its recorded challenge (SR 11-7 § III, § V).
    assert "**Model risk management (SR 11-7 / OCC 2011-12)**" in packs and "0 of 4" in packs
    assert "| SR 11-7 § III | Effective challenge by objective, informed parties | missing: " in packs
    assert "missing: challenge notes (an independent approval's comment) |" in packs
    assert "an approval by a reviewer outside the owner's team" in packs
    assert "hiring" not in packs.lower() and "HIPAA" not in packs  # sector finance: neither applies
    html = _annex(full_version, "html")
    assert '<section id="rule-packs">' in html and 'id="pack-model-risk-management"' in html
    assert (
        "<td>Art. 15</td><td>Accuracy, robustness and cybersecurity</td><td>missing: check performance</td>"
        in html
    )


def test_no_pack_section_where_no_pack_applies(sparse_version):  # noqa: F811
    assert "Rule packs" not in _annex(sparse_version, "md")

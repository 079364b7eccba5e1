"""`govflow policy packs`: per EU AI Act article, what a high-risk version's evidence covers."""

from __future__ import annotations

import json

from govflow.service.packs import pack_status
from govflow.store import session_scope
from tests._helpers import cli
from tests.integration.test_gate_service import record, setup_version


def test_per_article_evidenced_and_missing(db_url, sample_files, capsys):
    setup_version(sample_files)  # credit-risk 1.0, high tier, EU
    for check in ("validation", "pii", "documentation"):
        record(check)
    record("fairness", "fail")
    code, out, _ = cli(capsys, "policy", "packs", "--model", "credit-risk", "--version", "1.0", "--json")
    assert code == 0
    [eu] = json.loads(out)["packs"]  # no sector: the EU pack alone applies
    assert eu["id"] == "eu-ai-act-high-risk" and eu["enforced"] is False
    by_article = {o["article"]: o for o in eu["obligations"]}
    # Art. 10: both checks passed, but no document has scored its sections yet.
    assert by_article["Art. 10"]["missing"] == ["section data_governance", "section training_data"]
    # Art. 9: a failed fairness check does not evidence risk management.
    assert "check fairness" in by_article["Art. 9"]["missing"]
    assert "check drift" in by_article["Art. 9"]["missing"]
    assert eu["evidenced"] == 0 and eu["total"] == 8


def test_a_sector_adds_its_pack(db_url, sample_files):
    from govflow.service import registry

    with session_scope() as s:
        registry.register_model(
            s,
            name="cv-screen",
            owner="Ana",
            risk_tier="high",
            actor="alice",
            regions=["EU"],
            sector="employment",
        )
    setup_version(sample_files, name="cv-screen")
    with session_scope() as s:
        report = pack_status(s, "cv-screen", "1.0")
    ids = [p["id"] for p in report["packs"]]
    assert ids == ["eu-ai-act-high-risk", "hiring-bias-audit"]
    assert report["packs"][1]["bias_audit"]["min_share"] == 0.02

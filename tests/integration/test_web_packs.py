"""The version page shows the rule packs that apply and, per article, evidenced or what is missing."""

from __future__ import annotations

from tests.integration.test_web import client_as, seeded  # noqa: F401 - the fixture is used by name


def test_the_eu_high_risk_pack_per_article_on_the_page_and_api(seeded):  # noqa: F811
    detail = client_as("vera").get("/api/models/credit-risk/versions/1.0").json()
    packs = {p["id"]: p for p in detail["packs"]}
    assert set(packs) == {"eu-ai-act-high-risk"}  # high tier, EU; no sector: no sector pack applies
    eu = {o["article"]: o for o in packs["eu-ai-act-high-risk"]["obligations"]}
    # Only drift has passed and no document is rendered: Art. 72 lacks its section, Art. 9 also fairness.
    assert eu["Art. 9"]["missing"] == ["check fairness", "section risk_management"]
    assert eu["Art. 72"]["missing"] == ["section monitoring"]
    assert packs["eu-ai-act-high-risk"]["evidenced"] == 0
    page = client_as("vera").get("/models/credit-risk/versions/1.0").text
    assert 'id="pack-eu-ai-act-high-risk"' in page and "reported, not enforced by the policy" in page
    assert "<td>Art. 72</td><td>Post-market monitoring</td><td>missing: section monitoring</td>" in page

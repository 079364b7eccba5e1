"""The Governance view's admin page for policy changes: impact before apply, non-compliance after."""

from __future__ import annotations

import re

from tests.integration.test_policy_impact import admin_apply, production, tightened  # noqa: F401
from tests.integration.test_web import client_as


def test_an_admin_sees_the_impact_of_a_proposed_policy_before_applying_it(production):  # noqa: F811
    admin = client_as("admin")
    report = admin.post("/api/policy/impact", json={"text": tightened().text}).json()
    assert report["examined"] == 1 and report["policy_version"] == "2099.1.1"
    [change] = report["changed"]
    assert (change["model"], change["before"], change["after"]) == (
        "credit-risk",
        "approved",
        "pending_approval",
    )
    assert change["approvals_no_longer_counted"] == ["rita", "rob"]
    assert admin.get("/api/admin/policy").json()["non_compliant"] == []  # nothing is applied by looking
    page = admin.get("/admin/policy")
    assert page.status_code == 200 and 'id="impact"' in page.text and 'id="nav-policy"' in page.text


def test_after_apply_the_page_lists_the_non_compliant_production_versions(production):  # noqa: F811
    admin_apply(tightened())
    state = client_as("admin").get("/api/admin/policy").json()
    assert state["active"]["version"] == "2099.1.1"
    assert [(n["model"], n["version"]) for n in state["non_compliant"]] == [("credit-risk", "1.0")]
    page = client_as("admin").get("/admin/policy").text
    assert "credit-risk@1.0" in page


def test_a_bad_proposed_policy_is_one_line_and_only_admins_get_the_page(production):  # noqa: F811
    bad = client_as("admin").post("/api/policy/impact", json={"text": "version: 1\ntiers: nope\n"})
    assert bad.status_code == 400 and "\n" not in bad.json()["detail"]
    for who in ("rita", "vera", "alice"):
        client = client_as(who)
        assert client.get("/admin/policy").status_code == 403
        assert client.post("/api/policy/impact", json={"text": tightened().text}).status_code == 403
        assert 'id="nav-policy"' not in client.get("/").text


def test_the_page_applies_only_the_policy_whose_impact_it_showed_and_only_same_origin_json(
    production,  # noqa: F811
):
    admin = client_as("admin")
    page = admin.get("/admin/policy").text
    # The Apply control is hidden until an impact is shown, and posts that text to the audited route.
    assert '<p id="apply-step" hidden>' in page
    assert re.search(r'id="apply" data-url="[^"]*/api/policy"', page)
    assert "shown = form.text.value" in page and "JSON.stringify({text: shown" in page
    text = tightened().text
    cross_site = admin.post("/api/policy", json={"text": text}, headers={"Origin": "https://evil.example"})
    form = admin.post("/api/policy", data={"text": text})
    assert (cross_site.status_code, form.status_code) == (403, 415)
    assert admin.get("/api/admin/policy").json()["active"]["version"] != "2099.1.1"  # nothing applied
    applied = admin.post("/api/policy", json={"text": text, "source": "<applied in the Governance view>"})
    assert applied.status_code == 200 and applied.json()["changed"] is True
    state = admin.get("/api/admin/policy").json()
    assert state["active"]["version"] == "2099.1.1"
    assert [(n["model"], n["since_policy"]) for n in state["non_compliant"]] == [("credit-risk", "2099.1.1")]
    for who in ("rita", "vera"):  # only an admin applies
        assert client_as(who).post("/api/policy", json={"text": text}).status_code == 403

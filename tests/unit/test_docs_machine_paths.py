"""Model cards and Annex IV name files by name and sha256, never by a path on the submitting machine."""

from __future__ import annotations

import dataclasses

import pytest

from govflow.docs import build_context, render_document
from tests.unit.test_docs import full_inputs

ROOTS = ("/tmp/", "/home/", "/work/", "/root/")


def _demo_like():
    inputs = full_inputs()
    demo = "/work/main/.govflow/demo/model-1"
    version = dict(inputs.version) | {
        "artifact_uri": f"{demo}/model.skops",
        "training_data_uri": f"{demo}/train.csv",
        "reference_data_uri": "file:///home/alice/data/reference.csv",
        "eval_data_uri": "/tmp/pytest-1/eval.csv",
    }
    model = dict(inputs.model) | {"batches_uri": "/root/.govflow/batches"}
    return dataclasses.replace(inputs, version=version, model=model)


@pytest.mark.parametrize("kind", ["model_card", "annex_iv"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_documents_show_file_names_and_sha256_not_machine_paths(kind, fmt):
    text = render_document(build_context(_demo_like()), kind=kind, fmt=fmt)
    for root in ROOTS:
        assert root not in text, (root, [line for line in text.splitlines() if root in line][:3])
    assert f"train.csv (sha256 {'b' * 64})" in text
    if kind == "model_card":
        assert f"model.skops (sha256 {'a' * 64})" in text


def test_object_store_uris_stay_whole():
    text = render_document(build_context(full_inputs()), kind="annex_iv", fmt="md")
    assert "s3://bank/batches/adult-income/" in text


def test_for_people_names_files_everywhere_in_a_read_view_but_keeps_links():
    from govflow.machine_paths import for_people

    view = {
        "artifact_uri": "/tmp/pytest-9/govflow_home0/artifacts/26/266d80f9/model.skops",
        "params": {"governance": {"suite": "/work/main/include/govflow/data/suites/adult.yaml"}},
        "checks": [{"evidence_uri": "file:///root/.govflow/evidence/7.json", "status": "pass"}],
        "audit": ({"payload": "registered from /home/alice/job/train.csv"},),
        "batches_uri": "s3://bank-models/credit/batches",  # an object-store URI names the data anywhere
        "gate_run": {"url": "/dags/governance_gate/runs/manual__1", "run_id": "manual__1"},
        "links": {
            "run": "/dags/nightly_compliance/runs/x",
            "task": "/dags/nightly_compliance/runs/x/tasks/y",
        },
        "required_actions_url": "/required_actions?response_received=false",
        "rows": 10_000,
        "ratio": "worst group 3 /4",
    }
    shown = for_people(view)
    assert shown["artifact_uri"] == "model.skops"
    assert shown["params"]["governance"]["suite"] == "adult.yaml"
    assert shown["checks"] == [{"evidence_uri": "7.json", "status": "pass"}]
    assert shown["audit"] == ({"payload": "registered from train.csv"},)
    assert shown["batches_uri"] == "s3://bank-models/credit/batches"
    for kept in ("gate_run", "links", "required_actions_url", "rows", "ratio"):
        assert shown[kept] == view[kept], kept
    assert not any(root in repr(shown) for root in ROOTS)

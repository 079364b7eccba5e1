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

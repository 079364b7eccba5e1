"""nightly_compliance packs its due models into groups: sizes, order, configuration, and a group whose
one model raises still records the others (the retry then runs only what is missing)."""

from __future__ import annotations

import pytest

from govflow.config import DEFAULT_NIGHTLY_PARALLELISM, nightly_parallelism
from govflow.errors import BadInputError
from govflow.tasks import nightly


def _targets(n: int) -> list[dict]:
    return [{"model": f"m{i:02d}", "version": "1.0", "tier": "high"} for i in range(n)]


@pytest.mark.parametrize("models,groups", [(0, 4), (1, 4), (3, 4), (4, 4), (10, 4), (50, 4), (50, 8), (7, 1)])
def test_pack_covers_every_model_once_in_order_with_balanced_sizes(models, groups):
    targets = _targets(models)
    packed = nightly.pack(targets, groups)
    assert len(packed) == min(models, groups)
    assert [t for group in packed for t in group] == targets  # each once, order kept
    sizes = [len(g) for g in packed]
    assert all(sizes) and (not sizes or max(sizes) - min(sizes) <= 1)


def test_parallelism_comes_from_the_variable_then_the_environment(monkeypatch):
    monkeypatch.delenv("GOVFLOW_NIGHTLY_PARALLELISM", raising=False)
    assert nightly_parallelism() == DEFAULT_NIGHTLY_PARALLELISM
    monkeypatch.setenv("GOVFLOW_NIGHTLY_PARALLELISM", "4")
    assert nightly_parallelism() == 4
    assert nightly_parallelism("12") == 12  # the Airflow Variable wins


@pytest.mark.parametrize("bad", ["0", "-2", "four", "1.5"])
def test_a_bad_parallelism_is_a_one_line_configuration_error(bad):
    with pytest.raises(BadInputError, match="GOVFLOW_NIGHTLY_PARALLELISM must be a positive integer"):
        nightly_parallelism(bad)


def test_one_model_raising_does_not_stop_its_group(monkeypatch):
    ran = []

    def check(run, target, name, *, policy=None, db_url=None):
        ran.append(target["model"])
        if target["model"] == "m01":
            raise ConnectionError("server closed the connection unexpectedly")
        return {"check": name, "status": "pass", "model": target["model"]}

    monkeypatch.setattr(nightly, "check", check)
    with pytest.raises(nightly.GroupIncompleteError) as raised:
        nightly.check_group({"dag_id": "nightly_compliance", "run_id": "r"}, _targets(3), "drift")
    assert ran == ["m00", "m01", "m02"]  # the model after the failing one still ran
    message = str(raised.value)
    assert "1 of 3 models" in message and "m01@1.0" in message and "\n" not in message
    assert isinstance(raised.value.__cause__, ConnectionError)


def test_a_group_returns_each_models_result(monkeypatch):
    policies = []

    def document(run, target, *, policy=None, db_url=None):
        policies.append(policy)
        return {"model": target["model"], "documents": 2}

    monkeypatch.setattr(nightly, "document", document)
    loads = []
    monkeypatch.setattr(nightly, "load_policy", lambda: loads.append(1) or object())
    results = nightly.document_group({"dag_id": "nightly_compliance", "run_id": "r"}, _targets(3))
    assert [r["model"] for r in results] == ["m00", "m01", "m02"]
    # The policy is read once per group task and shared, not re-read per model.
    assert len(loads) == 1 and len(set(map(id, policies))) == 1 and policies[0] is not None

"""nightly_compliance packs its due models into groups: sizes, order, configuration, and a group whose
one model raises still records the others (the retry then runs only what is missing)."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from govflow.config import DEFAULT_NIGHTLY_PARALLELISM, nightly_parallelism, nightly_write_models
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
    assert "1 of 3 checks" in message and "m01@1.0 drift" in message and "\n" not in message
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


def _batches_that_write(monkeypatch, write) -> None:
    """A group task's result batches, each ``write()`` answered by ``write`` (the real batch's
    transaction is tests/integration/test_nightly_result_batch.py's business)."""

    @contextmanager
    def written_together(*, db_url):
        yield SimpleNamespace(write=write)

    monkeypatch.setattr(nightly, "results_written_together", written_together)


@pytest.mark.parametrize(
    "write_models,order",
    [
        # the window's checks, its one write, then its documents
        (None, ["m00 drift", "m00 pii", "m01 drift", "m01 pii", "m02 drift", "m02 pii",
                "write", "m00 documentation", "m01 documentation", "m02 documentation"]),
        ("2", ["m00 drift", "m00 pii", "m01 drift", "m01 pii", "write", "m00 documentation",
               "m01 documentation", "m02 drift", "m02 pii", "write", "m02 documentation"]),
    ],
)  # fmt: skip
def test_a_group_task_writes_each_windows_results_before_their_documentation(
    monkeypatch, write_models, order
):
    ran = []

    def check(run, target, name, *, policy=None, db_url=None):
        ran.append(f"{target['model']} {name}")
        if (target["model"], name) == ("m00", "pii"):
            raise ConnectionError("object store unreachable")
        return {"check": name, "status": "pass", "model": target["model"]}

    def document(run, target, *, policy=None, db_url=None):
        ran.append(f"{target['model']} documentation")
        return {"check": "documentation", "status": "pass", "model": target["model"]}

    monkeypatch.setattr(nightly, "check", check)
    monkeypatch.setattr(nightly, "document", document)
    _batches_that_write(monkeypatch, lambda: ran.append("write") or [])
    if write_models:
        monkeypatch.setenv("GOVFLOW_NIGHTLY_WRITE_MODELS", write_models)
    else:
        monkeypatch.delenv("GOVFLOW_NIGHTLY_WRITE_MODELS", raising=False)
    loads = []
    monkeypatch.setattr(nightly, "load_policy", lambda: loads.append(1) or object())
    run = {"dag_id": "nightly_compliance", "run_id": "r"}
    with pytest.raises(nightly.GroupIncompleteError, match=r"1 of 9 checks \(m00@1\.0 pii: object store"):
        nightly.check_group(run, _targets(3), ("drift", "pii"), documents=True, task="checks")
    assert ran == order  # the raising check stopped neither its model's other checks nor the documents
    assert len(loads) == 1  # one policy read for the whole task


def test_a_result_whose_write_failed_is_the_tasks_error_not_a_result(monkeypatch):
    from govflow.service.result_batch import WriteFailure

    returned = {}

    def check(run, target, name, *, policy=None, db_url=None):
        returned[target["model"]] = {"check": name, "status": "pass", "model": target["model"]}
        return returned[target["model"]]

    def write():
        pending = SimpleNamespace(model="m01", version="1.0", result=SimpleNamespace(check="drift"))
        pending.summary = returned["m01"]
        return [WriteFailure(pending, ConnectionError("the database went away"))]

    monkeypatch.setattr(nightly, "check", check)
    _batches_that_write(monkeypatch, write)
    monkeypatch.setattr(nightly, "load_policy", object)
    with pytest.raises(nightly.GroupIncompleteError, match=r"1 of 3 checks \(m01@1\.0 drift: the database"):
        nightly.check_group({"dag_id": "nightly_compliance", "run_id": "r"}, _targets(3), "drift")


@pytest.mark.parametrize("bad", ["0", "many"])
def test_a_bad_write_batch_size_is_a_one_line_configuration_error(monkeypatch, bad):
    monkeypatch.setenv("GOVFLOW_NIGHTLY_WRITE_MODELS", bad)
    with pytest.raises(BadInputError, match="GOVFLOW_NIGHTLY_WRITE_MODELS must be a positive integer"):
        nightly_write_models()


def test_nightly_tasks_are_one_per_group_unless_heavy_checks_have_their_own_queue(monkeypatch):
    from govflow.service.airflow_links import task_id_for
    from govflow.service.check_table import nightly_checks, nightly_tasks

    monkeypatch.delenv("GOVFLOW_HEAVY_QUEUE", raising=False)
    [single] = nightly_tasks()
    assert (single.task_id, single.checks, single.documents, single.queue) == (
        "checks",
        nightly_checks(),
        True,
        {},
    )
    assert task_id_for("nightly_compliance", "fairness") == "recheck.checks"
    assert task_id_for("nightly_compliance", "documentation") == "recheck.checks"

    monkeypatch.setenv("GOVFLOW_HEAVY_QUEUE", "heavy")
    light, heavy, docs = nightly_tasks()
    assert set(light.checks) | set(heavy.checks) == set(nightly_checks())
    assert heavy.queue == {"queue": "heavy"} and {"pii", "fairness"} <= set(heavy.checks)
    assert not (light.documents or heavy.documents) and docs.documents and not docs.checks
    assert task_id_for("nightly_compliance", "fairness") == "recheck.heavy_checks"
    assert task_id_for("nightly_compliance", "drift") == "recheck.checks"
    assert task_id_for("nightly_compliance", "documentation") == "recheck.documentation"
    assert task_id_for("governance_gate", "fairness") == "fairness"

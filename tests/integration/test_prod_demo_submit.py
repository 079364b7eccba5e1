"""prod-demo submits for alice without dev mode: its stack (PostgreSQL, a signing key) refuses dev mode
whatever the process declares, so the version is registered by the CLI's code as alice and the gate is
triggered as alice through Airflow (here a stand-in client that records the trigger)."""

from __future__ import annotations

from govflow.prodstack import demo
from govflow.service import registry
from govflow.store import session_scope


class AliceInAirflow:
    """Alice's Airflow client: records what it triggers."""

    def __init__(self) -> None:
        self.triggered: list[tuple[str, dict]] = []

    def __enter__(self) -> AliceInAirflow:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def trigger(self, dag_id: str, conf: dict, *, note: str | None = None) -> dict:
        self.triggered.append((dag_id, conf))
        return {"dag_run_id": f"manual__{conf['version']}", "state": "queued"}


def test_the_demo_submits_as_alice_without_dev_mode(db_url, sample_files, tmp_path, monkeypatch):
    monkeypatch.delenv("GOVFLOW_DEV_MODE", raising=False)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(demo_users()))
    for name, text in {
        "suite.yaml": "expectations: []\n",
        "notes.yaml": "limitations: a demo\n",
        "metrics.json": "{}",
    }.items():
        (tmp_path / name).write_text(text)
    trained = {
        "label": "y", "prediction": "p", "score": "s", "positive_label": "1", "sensitive": ["x"],
        "suite": str(tmp_path / "suite.yaml"), "metrics_file": str(tmp_path / "metrics.json"),
        "params": {"C": 1.0}, "notes": str(tmp_path / "notes.yaml"),
    }  # fmt: skip
    uris = {
        "artifact": str(sample_files["artifact"]),
        "training_data": str(sample_files["training"]),
        "reference_data": str(sample_files["reference"]),
        "eval_data": str(sample_files["eval"]),
    }
    with session_scope() as s:
        registry.register_model(s, name="credit-model-01", owner="Olga", risk_tier="high", actor="alice")
    alice = AliceInAirflow()

    result = demo.submit(trained, "credit-model-01", "1.0", uris, lambda: alice)

    assert (result["run_id"], result["registered"]) == ("manual__1.0", True)
    assert alice.triggered == [
        ("governance_gate", {"model": "credit-model-01", "version": "1.0", "trigger_kind": "rest"})
    ]
    with session_scope() as s:
        row = registry.get_version(s, "credit-model-01", "1.0")
        assert row.created_by == "alice"
        assert row.params["C"] == 1.0


def demo_users():
    from govflow import data

    return data.demo_users()

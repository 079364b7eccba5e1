"""The Governance view's read pages and their API twins name files, never paths on the server.

The version page showed ``/…/govflow_home/artifacts/26/…/model.skops`` and the training data's
absolute path; the API also gave the model's batches folder, the evidence files and the suite path
inside the version's parameters. The CLI on the host still shows the real paths.
"""

from __future__ import annotations

import json
import re

from govflow.service import registry
from govflow.store import session_scope

MACHINE_PATH = re.compile(r"(?<![\w.:/~-])/(?:tmp|work|root|home|var|usr|opt)/\S")


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web.app import create_app

    return TestClient(create_app(user_dependency=lambda: user))


def test_read_pages_and_api_show_file_names_not_server_paths(db_url, sample_files):
    suite = str(sample_files["training"].parent / "suite.yaml")
    with session_scope() as s:
        registry.register_model(
            s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice",
            batches_uri=str(sample_files["training"].parent / "batches"),
        )  # fmt: skip
        registry.register_version(
            s, model="credit-risk", version="1.0", artifact=sample_files["artifact"],
            training_data=sample_files["training"], eval_data=sample_files["eval"], actor="alice",
            params={"governance": {"label": "y", "suite": suite}},
        )  # fmt: skip
        stored = registry.get_version(s, "credit-risk", "1.0").artifact_uri
    assert MACHINE_PATH.match(stored)  # the store keeps the real location: checks read it

    client = client_as("vera")
    detail = client.get("/api/models/credit-risk/versions/1.0").json()
    name = stored.rsplit("/", 1)[1]  # the artifact store's content-addressed name: <sha256>.skops
    assert detail["artifact_uri"] == name
    assert detail["training_data_uri"] == "train.csv" and detail["eval_data_uri"] == "eval.csv"
    assert detail["params"]["governance"]["suite"] == "suite.yaml"
    assert client.get("/api/models/credit-risk").json()["batches_uri"] == "batches"
    for path in ("/api/models/credit-risk/versions/1.0", "/api/models/credit-risk", "/api/portfolio"):
        text = json.dumps(client.get(path).json())
        assert not MACHINE_PATH.search(text), (path, MACHINE_PATH.search(text))
    for path in ("/models/credit-risk/versions/1.0", "/models/credit-risk", "/"):
        page = client.get(path)
        assert page.status_code == 200 and not MACHINE_PATH.search(page.text), path
    assert f"<code>{name}</code>" in client.get("/models/credit-risk/versions/1.0").text

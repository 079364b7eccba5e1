"""`govflow mitigate` on a registered version: the frontier as JSON, and --register writing a challenger."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LogisticRegression

from govflow.checks.fairness import evaluate_fairness
from govflow.checks.fairness.mitigation import MitigatedModel
from govflow.checks.model_predictions import ModelArtifact, load_model
from tests._helpers import cli
from tests.unit.test_mitigation import disparate

FEATURES = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mitigate")
    train, held = disparate(3000, seed=1), disparate(3000, seed=2)
    model = LogisticRegression().fit(train[FEATURES], train["label"])
    held["prediction"] = model.predict(held[FEATURES])
    held["score"] = model.predict_proba(held[FEATURES])[:, 1].round(6)
    paths = {"artifact": folder / "model.skops", "train": folder / "train.csv", "eval": folder / "eval.csv"}
    skops.io.dump(model, paths["artifact"])
    train.to_csv(paths["train"], index=False)
    held.to_csv(paths["eval"], index=False)
    return paths


def register(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    argv = ["model", "register", "--name", "loans", "--owner", "Ana", "--risk-tier", "high", "--as", "alice"]
    assert cli(capsys, *argv)[0] == 0
    params = {
        "governance": {"label": "label", "sensitive": ["group"], "prediction": "prediction", "score": "score"}
    }
    code, _, err = cli(
        capsys,
        "version", "register", "--model", "loans", "--version", "1",
        "--artifact", str(files["artifact"]), "--training-data", str(files["train"]),
        "--eval-data", str(files["eval"]), "--params", json.dumps(params), "--as", "alice",
    )  # fmt: skip
    assert code == 0, err


def test_frontier_json_and_a_registered_challenger_that_passes(db_url, capsys, files) -> None:  # type: ignore[no-untyped-def]
    register(capsys, files)
    code, out, err = cli(
        capsys,
        "mitigate", "--model", "loans", "--version", "1", "--method", "threshold", "--method", "reweight",
        "--constraint", "equalized_odds", "--bootstrap", "20", "--register", "2", "--as", "alice", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert (
        payload["status"] == "ok" and payload["limit"] == 0.1
    )  # the high tier's max_equalized_odds_difference
    assert [c["method"] for c in payload["candidates"]] == ["threshold", "reweight"]
    assert payload["candidates"][1]["parameters"]["fitted_on"] == "the registered training data"
    assert payload["baseline"]["disparity"] > 0.1
    rec = payload["recommendation"]
    assert rec["within_limit"] and rec["disparity"] <= 0.1 and rec["cost"] >= 0
    assert payload["provenance"]["engine"] == "govflow.checks.fairness.mitigation"
    registered = payload["registered"]
    assert registered["derived_from"] == "loans@1" and registered["version"] == "2"

    code, out, _ = cli(capsys, "version", "show", "--model", "loans", "--version", "2", "--json")
    version = json.loads(out)
    lineage = version["params"]["mitigation"]
    assert lineage["derived_from"] == "loans@1" and lineage["method"] == rec["method"]
    assert lineage["constraint"] == "equalized_odds" and lineage["parameters"]
    assert "govflow mitigation" in version["params"]["algorithm"]
    evidence = Path(lineage["evidence"])
    assert json.loads(evidence.read_text())["recommendation"] == rec

    # The registered eval data holds the challenger's predictions; on them the disparity passes.
    frame = pd.read_csv(registered["eval_data"])
    challenger = load_model(ModelArtifact.from_file(registered["artifact"]))
    if isinstance(challenger, MitigatedModel):
        expected = challenger.predict(frame[FEATURES], sensitive_features=frame[["group"]])
    else:
        expected = challenger.predict(frame[FEATURES])
    assert (frame["prediction"].to_numpy() == expected).all()
    result = evaluate_fairness(frame, label="label", prediction="prediction", sensitive=["group"])
    assert result.summary["equalized_odds_difference"] < payload["baseline"]["disparity"]


def test_human_output_names_the_recommendation(db_url, capsys, files) -> None:  # type: ignore[no-untyped-def]
    register(capsys, files)
    code, out, _ = cli(
        capsys, "mitigate", "--model", "loans", "--version", "1", "--method", "threshold", "--bootstrap", "0"
    )
    assert code == 0
    assert out.startswith("mitigate loans@1: ok (")
    assert "Recommended: threshold:" in out and "different threshold to each group" in out


def test_bad_input_is_one_line_and_exit_2(db_url, capsys, files) -> None:  # type: ignore[no-untyped-def]
    register(capsys, files)
    code, out, err = cli(capsys, "mitigate", "--model", "loans", "--version", "9", "--json")
    assert code == 2 and json.loads(out)["status"] == "error" and err.count("\n") == 1
    code, _, err = cli(
        capsys, "mitigate", "--model", "loans", "--version", "1", "--method", "threshold",
        "--bootstrap", "0", "--register", "1", "--as", "alice",
    )  # fmt: skip
    assert code != 0 and "already registered" in err and err.count("\n") == 1


def test_the_challengers_documents_and_page_show_its_lineage_and_the_verified_frontier(
    db_url, capsys, files
) -> None:  # type: ignore[no-untyped-def]
    from govflow.policy import load_policy
    from govflow.service.attachments import version_attachments
    from govflow.service.docs import version_context
    from govflow.service.registry import get_version
    from govflow.service.version_view import version_view
    from govflow.store import session_scope

    register(capsys, files)
    code, out, err = cli(
        capsys,
        "mitigate", "--model", "loans", "--version", "1", "--method", "threshold",
        "--constraint", "equalized_odds", "--bootstrap", "10", "--register", "2", "--as", "alice", "--json",
    )  # fmt: skip
    assert code == 0, err
    evidence = Path(json.loads(out)["registered"]["evidence"])
    with session_scope() as s:
        attached = version_attachments(s, get_version(s, "loans", "2"))
        assert attached["mitigation_lineage"]["signed"] is True  # the registration event signs its sha256
        measured = version_attachments(s, get_version(s, "loans", "1"))["mitigation"]
        assert measured["signed"] is False and measured["data"]["measured_by"] == "cli"
        context = version_context(s, "loans", "2")
        assert context["mitigation_lineage"]["derived_from"] == "loans@1"
        assert context["mitigation_frontier"]["signed"] and context["mitigation_frontier"]["points"]
        version_view(s, load_policy(), "loans", "2")  # the page reads the same attachments
    # The state volume is writable by more people than the signing key: an edited frontier is shown
    # as unverified, never as the one the challenger was registered with.
    edited = json.loads(evidence.read_text())
    edited["recommendation"]["cost"] = 0.0
    evidence.write_text(json.dumps(edited))
    with session_scope() as s:
        assert version_attachments(s, get_version(s, "loans", "2"))["mitigation_lineage"]["signed"] is False
        frontier = version_context(s, "loans", "2")["mitigation_frontier"]
        assert frontier["source"].startswith("unverified")

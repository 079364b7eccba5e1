"""Attacks through model artifacts: a pickle that runs code when loaded, a file swapped after registration."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.errors import BadInputError
from govflow.policy import load_policy
from govflow.service import registry
from govflow.service.model_artifacts import load_registered
from govflow.store import session_scope


class Payload:
    """Unpickling this calls exec: it records what the loading process could see, then returns a model."""

    def __init__(self, report: Path) -> None:
        self.report = report

    def __reduce__(self):  # type: ignore[no-untyped-def]
        code = (
            "import json, os, sklearn.dummy as d\n"
            "try:\n"
            f"    open({str(self.report)!r}, 'w').write(json.dumps("
            "{'pid': os.getpid(), 'env': dict(os.environ), 'cwd': os.getcwd()}))\n"
            "except OSError:\n"
            "    pass  # confined: the folder is not in its view\n"
            "m = d.DummyClassifier(strategy='constant', constant=1).fit([[0], [1]], [0, 1])\n"
        )
        # exec runs the payload; eval hands the model it built back to the unpickler.
        return (eval, (f"[exec({code!r}, g := {{}}), g['m']][1]",))


def evil_joblib(folder: Path) -> tuple[Path, Path]:
    import joblib

    report = folder / "seen.json"
    path = folder / "model.joblib"
    joblib.dump(Payload(report), path)
    return path, report


def _register(name: str, tier: str, artifact: Path, training: Path) -> None:
    with session_scope() as s:
        registry.register_model(s, name=name, owner="Ana", risk_tier=tier, actor="alice")
        registry.register_version(
            s, model=name, version="1.0", artifact=artifact, training_data=training, actor="alice"
        )


def test_a_pickle_is_refused_for_high_saying_how_to_convert(db_url, sample_files, tmp_path):
    path, report = evil_joblib(tmp_path)
    with pytest.raises(BadInputError) as info:
        _register("credit", "high", path, sample_files["training"])
    message = str(info.value)
    assert (
        "pickle artifact, which the high tier" in message and 'skops.io.dump(model, "model.skops")' in message
    )
    assert not report.exists()  # never loaded
    with session_scope() as s:
        assert registry.list_versions(s) == []


@pytest.fixture
def pickle_policy(tmp_path, monkeypatch):
    """A policy whose minimal tier opts in to pickles (the default accepts them on no tier)."""
    text = load_policy().text
    opt_in = text.replace("formats: [skops, onnx]", "formats: [skops, onnx, pickle]", 1)
    assert opt_in != text
    path = tmp_path / "pickles.yaml"
    path.write_text(opt_in)
    monkeypatch.setenv("GOVFLOW_POLICY", str(path))
    return path


def test_the_default_policy_accepts_pickles_on_no_tier(db_url, sample_files, tmp_path):
    path, report = evil_joblib(tmp_path)
    for tier in ("minimal", "limited", "high"):
        assert "pickle" not in load_policy().tier(tier).artifacts.formats
        with pytest.raises(BadInputError, match=f"pickle artifact, which the {tier} tier"):
            _register(f"m-{tier}", tier, path, sample_files["training"])
    assert not report.exists()


def test_where_a_policy_opts_in_pickles_run_only_in_a_confined_child(
    db_url, sample_files, tmp_path, monkeypatch, pickle_policy
):
    path, report = evil_joblib(tmp_path)
    _register("chatbot", "minimal", path, sample_files["training"])
    # What a worker's environment holds besides the DB URL (set by the db_url fixture).
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    with session_scope() as s:
        row = registry.get_version(s, "chatbot", "1.0")
        uri, sha = row.artifact_uri, row.artifact_sha256
    model = load_registered(uri, sha, policy=load_policy(), tier="minimal")
    predictions = model.predict(pd.DataFrame({"x": [0, 1, 2]}))
    assert isinstance(predictions, np.ndarray) and predictions.tolist() == [1, 1, 1]  # arrays, not objects
    if os.geteuid() == 0:
        # Its own root holds the Python installation only: the report folder is not there to write to.
        assert not report.exists()
        assert "uid-nobody" in model.isolation and "read-only-root" in model.isolation
        return
    seen = json.loads(report.read_text())
    assert seen["pid"] != os.getpid()  # the payload ran in another process
    for secret in ("GOVFLOW_DB_URL", "AWS_SECRET_ACCESS_KEY", "GOVFLOW_HOME"):
        assert secret not in seen["env"]
    assert db_url not in json.dumps(seen) and "s3cr3t" not in json.dumps(seen)


def test_an_ad_hoc_check_loads_a_pickle_only_when_asked(tmp_path, capsys):
    from govflow.cli import main

    path, report = evil_joblib(tmp_path)
    data = tmp_path / "eval.csv"
    pd.DataFrame({"x": [0, 1] * 20, "y": [0, 1] * 20, "g": ["a"] * 20 + ["b"] * 20}).to_csv(data, index=False)
    base = ["check", "fairness", "--data", str(data), "--label", "y", "--sensitive", "g"]
    base += ["--model", str(path)]
    # Without --allow-pickle, and with a tier that does not accept pickles: refused unread.
    assert main(base) == 2
    assert main([*base, "--tier", "high"]) == 2
    assert "--allow-pickle" in capsys.readouterr().err
    explain = ["explain", "--artifact", str(path), "--data", str(data), "--label", "y", "--sensitive", "g"]
    assert main([*explain, "--json"]) == 2  # `govflow explain` on files: the same rule
    assert "--allow-pickle" in capsys.readouterr().err
    assert not report.exists()
    assert main([*base, "--allow-pickle"]) in (0, 1)  # it ran (in the sandbox)
    capsys.readouterr()
    assert not report.exists() or json.loads(report.read_text())["pid"] != os.getpid()


def _skops_model(tmp_path: Path, constant: int) -> Path:
    import skops.io
    from sklearn.dummy import DummyClassifier

    path = tmp_path / f"model-{constant}.skops"
    skops.io.dump(DummyClassifier(strategy="constant", constant=constant).fit([[0], [1]], [0, 1]), path)
    return path


def test_a_file_swapped_after_registration_is_not_what_gets_loaded(db_url, sample_files, tmp_path):
    artifact = tmp_path / "model.skops"
    artifact.write_bytes(_skops_model(tmp_path, 1).read_bytes())
    _register("credit", "high", artifact, sample_files["training"])
    # The submitter's file is swapped for another model (and, for good measure, a pickle).
    artifact.write_bytes(_skops_model(tmp_path, 0).read_bytes())
    with session_scope() as s:
        row = registry.get_version(s, "credit", "1.0")
        uri, sha = row.artifact_uri, row.artifact_sha256
    assert Path(uri) != artifact
    model = load_registered(uri, sha, policy=load_policy(), tier="high")
    assert model.predict([[5]]).tolist() == [1]  # the registered model, not the swapped one
    # The stored copy itself swapped: refused on the bytes that would be loaded.
    Path(uri).write_bytes(_skops_model(tmp_path, 0).read_bytes())
    with pytest.raises(BadInputError, match="no longer matches the sha256 recorded at registration"):
        load_registered(uri, sha, policy=load_policy(), tier="high")


def test_skops_types_are_trusted_by_the_policy_not_by_the_file(tmp_path):
    import skops.io
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.linear_model import LogisticRegression

    from govflow.checks import CheckInputError
    from govflow.checks.model_predictions import load_model

    x = pd.DataFrame({"a": np.arange(40) % 7, "b": np.arange(40) % 3})
    y = (x["a"] > 3).astype(int)
    group = pd.Series(["m", "f"] * 20)
    model = ThresholdOptimizer(
        estimator=LogisticRegression().fit(x, y), prefit=True, predict_method="predict_proba"
    )
    model.fit(x, y, sensitive_features=group)
    for name in ("_tradeoff_curve", "_overall_tradeoff_curve"):
        delattr(model, name)
    model._y_min = None
    path = tmp_path / "mitigated.skops"
    skops.io.dump(model, path)
    with pytest.raises(CheckInputError, match="contains types skops does not trust by default"):
        load_model(path)
    trusted = load_policy().tier("high").artifacts.trusted_types
    loaded = load_model(path, trusted=trusted)
    assert loaded.predict(x, sensitive_features=group, random_state=0).shape == (40,)


def test_an_onnx_model_loads_through_onnxruntime_and_predicts_like_the_original(tmp_path):
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    from govflow.checks.model_predictions import load_model, predict

    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (x["a"] + x["b"] > 0).astype(int)
    original = LogisticRegression().fit(x.to_numpy(dtype=np.float32), y)
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(original, x.to_numpy(dtype=np.float32)[:1]).SerializeToString())
    loaded = load_model(path, formats=["onnx"])
    assert predict(loaded, x).tolist() == original.predict(x.to_numpy(dtype=np.float32)).tolist()

"""`govflow explain` (file and registry mode) and the service that adds explanations to fairness evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service.explain import with_explanation

FAST = ["--max-rows", "2000"]


def synthetic(seed: int, n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n)
    proxy = np.where((rng.random(n) < 0.95) == (group == "B"), "p1", "p0")
    x = rng.normal(size=n)
    label = np.where(x + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    return pd.DataFrame({"x": x, "proxy": proxy, "group": group, "approved": label})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import skops.io
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    folder = tmp_path_factory.mktemp("explain-cli")
    train = synthetic(0)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["proxy"]), remainder="passthrough"), LogisticRegression()
    ).fit(train[["x", "proxy"]], train["approved"])
    paths = {"artifact": folder / "model.skops", "data": folder / "eval.csv", "train": folder / "train.csv"}
    skops.io.dump(model, paths["artifact"])
    synthetic(1).to_csv(paths["data"], index=False)
    train.to_csv(paths["train"], index=False)
    return paths


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def file_args(files: dict[str, Path]) -> list[str]:
    return [
        "explain",
        "--artifact",
        str(files["artifact"]),
        "--data",
        str(files["data"]),
        "--label",
        "approved",
        "--sensitive",
        "group",
        "--positive-label",
        "yes",
        *FAST,
    ]


class TestFileMode:
    def test_json_is_one_object_with_the_explanation(self, capsys, files) -> None:  # type: ignore[no-untyped-def]
        code, out, err = run(capsys, *file_args(files), "--json")
        assert (code, err) == (0, "")
        payload = json.loads(out)
        assert out.count("\n") == 1
        assert payload["status"] == "warn" and payload["summary"]["strong_proxies"] == {"group": ["proxy"]}
        assert payload["positive_label"] == "yes"
        assert {"feature_importance", "error_analysis", "proxies", "findings"} <= set(payload)

    def test_human_output_and_svg_file(self, capsys, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        chart = tmp_path / "chart.svg"
        code, out, _ = run(capsys, *file_args(files), "--svg", str(chart))
        assert code == 0
        assert out.startswith("explain: warn\n")
        assert "Proxies of group (AUC; threshold 0.80):" in out and "STRONG" in out
        assert chart.read_text().startswith("<svg ")

    def test_threshold_flag_is_applied(self, capsys, files) -> None:  # type: ignore[no-untyped-def]
        code, out, _ = run(capsys, *file_args(files), "--proxy-auc-threshold", "0.99", "--json")
        payload = json.loads(out)
        assert code == 0 and payload["proxies"]["threshold_auc"] == 0.99 and payload["status"] == "ok"

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["explain", "--json"], "give either --model and --version, or --artifact and --data"),
            (
                ["explain", "--artifact", "a.joblib", "--data", "d.csv", "--json"],
                "file mode needs --artifact, --data, --label and --sensitive",
            ),
            (
                ["explain", "--model", "m", "--artifact", "a.joblib", "--json"],
                "give either --model and --version",
            ),
        ],
    )
    def test_usage_errors(self, capsys, argv, message) -> None:  # type: ignore[no-untyped-def]
        code, out, err = run(capsys, *argv)
        assert code == 2
        payload = json.loads(out)
        assert payload["status"] == "error" and payload["errors"][0].startswith(message)
        assert err.startswith(f"govflow: error: {message}") and err.count("\n") == 1

    def test_bad_column_is_exit_2_with_one_line(self, capsys, files) -> None:  # type: ignore[no-untyped-def]
        argv = file_args(files)
        argv[argv.index("group")] = "gender"
        code, out, err = run(capsys, *argv, "--json")
        assert code == 2 and json.loads(out)["status"] == "error"
        assert err == f"govflow: error: column(s) missing from {files['data']}: gender\n"


class TestRegistryMode:
    def register(self, capsys, files, params: dict) -> None:  # type: ignore[no-untyped-def]
        assert (
            run(
                capsys,
                "model",
                "register",
                "--name",
                "loans",
                "--owner",
                "Ana",
                "--risk-tier",
                "high",
                "--as",
                "alice",
                "--json",
            )[0]
            == 0
        )
        code, _, err = run(
            capsys,
            "version",
            "register",
            "--model",
            "loans",
            "--version",
            "1",
            "--artifact",
            str(files["artifact"]),
            "--training-data",
            str(files["train"]),
            "--eval-data",
            str(files["data"]),
            "--params",
            json.dumps(params),
            "--as",
            "alice",
            "--json",
        )
        assert code == 0, err

    def test_explains_a_registered_version(self, db_url, capsys, files) -> None:  # type: ignore[no-untyped-def]
        self.register(
            capsys,
            files,
            {"governance": {"label": "approved", "sensitive": ["group"], "positive_label": "yes"}},
        )
        code, out, err = run(capsys, "explain", "--model", "loans", "--version", "1", *FAST, "--json")
        assert (code, err) == (0, "")
        payload = json.loads(out)
        assert payload["version"]["model"] == "loans" and payload["version"]["tier"] == "high"
        assert len(payload["version"]["artifact_sha256"]) == 64
        assert payload["proxies"]["threshold_auc"] == 0.8  # the policy's default max_proxy_auc
        assert payload["groups"]["min_group_size"] == 50  # the high tier's
        assert payload["summary"]["strong_proxies"] == {"group": ["proxy"]}

    def test_the_tier_threshold_comes_from_the_policy(self, db_url, capsys, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        from govflow import config

        policy = tmp_path / "policy.yaml"
        text = config.policy_path().read_text()
        policy.write_text(
            text.replace(
                "      min_group_size: 50\n", "      min_group_size: 50\n      max_proxy_auc: 0.99\n", 1
            )
        )
        self.register(
            capsys,
            files,
            {"governance": {"label": "approved", "sensitive": ["group"], "positive_label": "yes"}},
        )
        code, out, _ = run(
            capsys, "explain", "--model", "loans", "--version", "1", "--policy", str(policy), *FAST, "--json"
        )
        payload = json.loads(out)
        assert code == 0 and payload["proxies"]["threshold_auc"] == 0.99
        assert payload["summary"]["strong_proxies"] == {"group": []} and payload["status"] == "ok"

    def test_flags_supply_what_the_registration_lacks(self, db_url, capsys, files) -> None:  # type: ignore[no-untyped-def]
        self.register(capsys, files, {"C": 1})
        code, _, err = run(capsys, "explain", "--model", "loans", "--version", "1", "--json")
        assert code == 2 and "does not record its label and sensitive columns" in err
        code, out, _ = run(
            capsys,
            "explain",
            "--model",
            "loans",
            "--version",
            "1",
            "--label",
            "approved",
            "--sensitive",
            "group",
            "--positive-label",
            "yes",
            *FAST,
            "--json",
        )
        assert code == 0 and json.loads(out)["label"] == "approved"

    def test_a_changed_artifact_is_not_loaded(self, db_url, capsys, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        import shutil

        from govflow.service.registry import get_version
        from govflow.store import session_scope

        artifact = tmp_path / "model.skops"
        shutil.copy(files["artifact"], artifact)
        self.register(
            capsys,
            {**files, "artifact": artifact},
            {"governance": {"label": "approved", "sensitive": "group"}},
        )
        artifact.unlink()  # registration kept its own copy: the submitter's file no longer matters
        with session_scope() as s:
            stored = Path(get_version(s, "loans", "1").artifact_uri)
        stored.write_bytes(stored.read_bytes() + b"\0")  # the stored copy tampered with
        code, _, err = run(capsys, "explain", "--model", "loans", "--version", "1", "--json")
        assert code == 2 and "no longer matches the sha256 recorded at registration: not loading it" in err

    def test_unknown_version(self, db_url, capsys) -> None:  # type: ignore[no-untyped-def]
        code, _out, err = run(capsys, "explain", "--model", "nope", "--version", "1", "--json")
        assert code == 2 and err == "govflow: error: unknown model 'nope'\n"


class TestFairnessEvidence:
    EXPLANATION: ClassVar[dict[str, Any]] = {
        "status": "warn",
        "summary": {"strong_proxies": {"sex": ["relationship"]}, "top_features": ["age"]},
    }

    def result(self, status: str) -> CheckResult:
        return CheckResult(
            check="fairness",
            status=status,
            summary={"demographic_parity_difference": 0.05},
            details={"by_group": {}},
        )

    def test_a_strong_proxy_turns_pass_into_warn_and_lands_in_the_evidence(self) -> None:
        merged = with_explanation(self.result("pass"), self.EXPLANATION)
        assert merged.status == "warn"
        assert merged.summary == {
            "demographic_parity_difference": 0.05,
            "explanation": "warn",
            "strong_proxies": {"sex": ["relationship"]},
            "top_features": ["age"],
        }
        assert merged.to_dict()["explanation"] is self.EXPLANATION

    def test_fail_stays_fail_and_ok_keeps_pass(self) -> None:
        assert with_explanation(self.result("fail"), self.EXPLANATION).status == "fail"
        assert with_explanation(self.result("pass"), {**self.EXPLANATION, "status": "ok"}).status == "pass"

    def test_an_explanation_error_is_recorded_and_changes_nothing_else(self) -> None:
        merged = with_explanation(self.result("pass"), error="the model could not predict on the data: boom")
        assert merged.status == "pass" and merged.summary["explanation"] == "error"
        assert merged.details["explanation"] == {
            "status": "error",
            "errors": ["the model could not predict on the data: boom"],
        }

    def test_explain_fairness_adds_the_model_explanation_to_a_real_fairness_result(self, files) -> None:  # type: ignore[no-untyped-def]
        from govflow.checks.fairness import evaluate_fairness
        from govflow.service.explain import explain_fairness

        columns = {"label": "approved", "sensitive": ["group"], "positive_label": "yes"}
        result = evaluate_fairness(files["data"], model_path=files["artifact"], **columns)
        merged = explain_fairness(result, data=files["data"], artifact=files["artifact"], **columns)
        evidence = json.loads(json.dumps(merged.to_dict(), allow_nan=False))
        assert evidence["by_group"] == result.details["by_group"]
        assert evidence["explanation"]["summary"]["strong_proxies"] == {"group": ["proxy"]}
        assert merged.status == ("warn" if result.status == "pass" else result.status)

    def test_explain_fairness_records_a_model_it_cannot_explain(self, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        from govflow.service.explain import explain_fairness

        placeholder = tmp_path / "model.bin"
        placeholder.write_bytes(b"placeholder model bytes")
        merged = explain_fairness(
            self.result("pass"),
            data=files["data"],
            artifact=str(placeholder),
            label="approved",
            sensitive=["group"],
            positive_label="yes",
        )
        assert merged.status == "pass"
        assert merged.details["explanation"]["status"] == "error"
        assert merged.details["explanation"]["errors"][0].startswith("unsupported model file type '.bin'")

"""Explanation of a model's fairness, with known answers.

A synthetic set where ``proxy`` is built from the sensitive ``group`` (it
agrees with it 90% of the time) and ``zone`` decides the label only for group
B (above 1.3 the label is flipped there): the proxy detection must name
``proxy`` and the error analysis must name ``zone`` for B. On UCI Adult,
``relationship`` must come out as a strong proxy of ``sex``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks import CheckInputError
from govflow.checks.explain import detect_proxies, explain_model
from govflow.checks.explain._bins import slice_feature
from govflow.checks.explain._errors import error_analysis
from govflow.checks.explain._proxy import roc_auc
from govflow.docs import card_view, explanation_svg

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "include" / "sample"
FAST = {"importance_rows": 600, "n_repeats": 3}


def synthetic(seed: int, n: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n)
    is_b = group == "B"
    proxy = np.where((rng.random(n) < 0.9) == is_b, "p1", "p0")  # "p1" for 90% of B, 10% of A
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    zone = rng.uniform(0, 2, n)
    y = x1 + 0.5 * x2 + rng.normal(scale=0.5, size=n) > 0
    y = np.where(is_b & (zone > 1.3), ~y, y)  # for B only, high zones follow another rule
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "zone": zone, "proxy": proxy, "group": group, "label": y.astype(int)}
    )


def fit_linear(frame: pd.DataFrame, features: list[str], categorical: list[str]):  # type: ignore[no-untyped-def]
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), remainder="passthrough"
        ),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(frame[features], frame["label"])


@pytest.fixture(scope="module")
def synthetic_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    import joblib

    path = tmp_path_factory.mktemp("synthetic") / "model.joblib"
    joblib.dump(fit_linear(synthetic(0), ["x1", "x2", "zone", "proxy"], ["proxy"]), path)
    return synthetic(1), path


@pytest.fixture(scope="module")
def synthetic_explanation(synthetic_model: tuple[pd.DataFrame, Path]) -> dict:
    data, path = synthetic_model
    return explain_model(data, model_path=path, label="label", sensitive="group", **FAST)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo model of include/sample/train_model.py, plain and mitigated (ThresholdOptimizer)."""
    spec = importlib.util.spec_from_file_location("govflow_sample_train", SAMPLE / "train_model.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    out = tmp_path_factory.mktemp("demo")
    return {"plain": module.train(out / "plain"), "mitigated": module.train(out / "mitigated", mitigate=True)}


class TestProxyDetection:
    def test_the_built_proxy_is_named_strong_and_nothing_else_is(self, synthetic_explanation: dict) -> None:
        entry = synthetic_explanation["proxies"]["by_sensitive"]["group"]
        top, *rest = entry["features"]
        assert top["feature"] == "proxy" and top["strong"] is True
        assert top["auc"] == pytest.approx(0.9, abs=0.03)  # agrees with the group 90% of the time
        assert top["share_of_sensitive_information"] == pytest.approx(1 - 0.469, abs=0.05)  # 1 - H(0.1) bits
        assert all(not r["strong"] and r["auc"] < 0.6 for r in rest)
        assert entry["all_features"]["strong"] is True
        assert synthetic_explanation["summary"]["strong_proxies"] == {"group": ["proxy"]}
        assert synthetic_explanation["status"] == "warn"
        assert any(
            w.startswith("proxy alone predicts group with AUC 0.")
            for w in synthetic_explanation["proxies"]["warnings"]
        )

    def test_works_when_the_sensitive_column_is_not_a_model_input(self, synthetic_explanation: dict) -> None:
        assert "group" not in synthetic_explanation["model"]["features"]
        assert synthetic_explanation["model"]["sensitive_inputs"] == []

    def test_relationship_is_a_strong_proxy_of_sex_on_adult(self) -> None:
        adult = pd.read_csv(SAMPLE / "adult" / "eval.csv")
        features = [c for c in adult.columns if c not in ("sex", "income")]
        result = detect_proxies(adult, sensitive=["sex"], features=features, threshold=0.8)
        rows = {r["feature"]: r for r in result["by_sensitive"]["sex"]["features"]}
        assert result["by_sensitive"]["sex"]["features"][0]["feature"] == "relationship"
        assert rows["relationship"]["strong"] is True and rows["relationship"]["auc"] > 0.84
        assert [f for f, r in rows.items() if r["strong"]] == ["relationship"]
        assert rows["native-country"]["auc"] < 0.6

    def test_threshold_decides_what_is_strong(self) -> None:
        adult = pd.read_csv(SAMPLE / "adult" / "eval.csv")
        result = detect_proxies(
            adult, sensitive=["sex"], features=["relationship", "marital-status", "age"], threshold=0.7
        )
        strong = [r["feature"] for r in result["by_sensitive"]["sex"]["features"] if r["strong"]]
        assert strong == ["relationship", "marital-status"]
        assert len(result["warnings"]) == 3  # two features and all of them together

    def test_several_groups_names_the_group_a_feature_singles_out(self) -> None:
        rng = np.random.default_rng(3)
        group = rng.choice(["a", "b", "c"], 3000)
        frame = pd.DataFrame(
            {
                "group": group,
                "postcode": np.where(group == "c", "9xxx", rng.choice(["1xxx", "2xxx"], 3000)),
                "noise": rng.normal(size=3000),
            }
        )
        entry = detect_proxies(frame, sensitive=["group"], features=["postcode", "noise"])["by_sensitive"][
            "group"
        ]
        postcode = entry["features"][0]
        assert postcode["feature"] == "postcode" and postcode["best_identified_group"] == "c"
        assert postcode["auc"] == pytest.approx(1.0)
        assert entry["features"][1]["strong"] is False

    def test_auc_equals_scikit_learn(self) -> None:
        from sklearn.metrics import roc_auc_score

        rng = np.random.default_rng(0)
        hit = rng.random(500) < 0.3
        score = np.round(rng.random(500) + 0.4 * hit, 1)  # many ties
        assert roc_auc(hit, score) == pytest.approx(roc_auc_score(hit, score))


class TestErrorAnalysis:
    def test_the_feature_driving_one_groups_errors_is_named_for_that_group(
        self, synthetic_explanation: dict
    ) -> None:
        entries = synthetic_explanation["error_analysis"]
        accuracy = next(e for e in entries if e["metrics"][0]["metric"] == "accuracy")
        assert accuracy["group"] == "B"
        top = accuracy["slices"][0]
        assert top["feature"] == "zone" and top["slice"].startswith("zone > ")
        # hard for B only: far above the rest of B and above other groups in the same slice
        assert top["error_rate"] > 2 * top["error_rate_rest"]
        assert top["error_rate_other_groups"] < top["error_rate_rest"]
        for entry in entries:
            if entry["group"] == "B" and entry["slices"]:
                assert entry["slices"][0]["feature"] == "zone"

    def test_counts_and_rates_of_a_hand_built_table(self) -> None:
        # group g: 10 rows in slice s (6 wrong), 10 rows in t (1 wrong);
        # group h: 10 in s (2 wrong), 10 in t (1 wrong)
        feature = pd.Series(["s"] * 10 + ["t"] * 10 + ["s"] * 10 + ["t"] * 10, name="f")
        groups = np.array(["g"] * 20 + ["h"] * 20, dtype=object)
        wrong = np.zeros(40, dtype=bool)
        wrong[[0, 1, 2, 3, 4, 5, 10, 20, 21, 30]] = True
        y_true = np.ones(40, dtype=bool)
        y_pred = ~wrong
        slices = [slice_feature(feature, min_rows=1)]
        entries = error_analysis(y_true, y_pred, groups, slices, eligible=["g", "h"], min_slice_rows=5)
        fnr = next(e for e in entries if e["metrics"][0]["metric"] == "selection_rate")
        assert fnr["group"] == "g" and fnr["error_count"] == 7 and fnr["rows"] == 20
        assert fnr["metrics"] == [
            {
                "metric": "selection_rate",
                "fairness_metric": "demographic_parity_difference",
                "value": 0.65,
                "other_groups": 0.85,
            },
            {
                "metric": "false_negative_rate",
                "fairness_metric": "equalized_odds_difference",
                "value": 0.35,
                "other_groups": 0.15,
            },
        ]
        assert fnr["slices"] == [
            {
                "feature": "f",
                "slice": "f = s",
                "rows": 10,
                "share_of_group": 0.5,
                "errors": 6,
                "share_of_errors": pytest.approx(6 / 7, abs=1e-4),
                "error_rate": 0.6,
                "error_rate_rest": 0.1,
                "error_rate_other_groups": 0.2,
                "lift": 6.0,  # 0.6 / 0.1
                "lift_other_groups": 3.0,  # 0.6 / 0.2
                "excess_errors": 5.0,
            }
        ]

    def test_no_analysis_when_groups_are_equally_well_off(self) -> None:
        y = np.array([True, True, False, False] * 25)  # each group: half positive, all predicted right
        groups = np.array(["g", "h", "g", "h"] * 25, dtype=object)
        slices = [slice_feature(pd.Series(np.arange(100.0), name="x"))]
        assert error_analysis(y, y, groups, slices, eligible=["g", "h"]) == []


class TestFeatureImportance:
    def test_overall_order_follows_the_label_rule(self, synthetic_explanation: dict) -> None:
        overall = [r["feature"] for r in synthetic_explanation["feature_importance"]["overall"]]
        assert overall[:2] == ["x1", "x2"]
        assert set(synthetic_explanation["feature_importance"]["by_group"]) == {"A", "B"}

    def test_a_feature_that_matters_for_one_group_only_shows_a_gap(self, tmp_path: Path) -> None:
        import joblib
        from sklearn.tree import DecisionTreeClassifier

        rng = np.random.default_rng(5)
        n = 4000
        frame = pd.DataFrame(
            {"segment": rng.integers(0, 2, n), "x": rng.normal(size=n), "w": rng.normal(size=n)}
        )
        frame["label"] = np.where(frame["segment"] == 1, frame["w"] > 0, frame["x"] > 0).astype(int)
        model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(
            frame[["segment", "x", "w"]], frame["label"]
        )
        joblib.dump(model, tmp_path / "tree.joblib")
        result = explain_model(
            frame, model_path=tmp_path / "tree.joblib", label="label", sensitive="segment", **FAST
        )
        by_group = {
            g: {r["feature"]: r["prediction_change"] for r in v["features"]}
            for g, v in result["feature_importance"]["by_group"].items()
        }
        assert by_group["1"]["w"] > 0.3 and by_group["1"]["x"] < 0.02
        assert by_group["0"]["x"] > 0.3 and by_group["0"]["w"] < 0.02
        gaps = {g["feature"]: g for g in result["feature_importance"]["largest_gaps"]}
        assert gaps["w"]["highest_group"] == "1" and gaps["x"]["highest_group"] == "0"
        assert result["model"]["sensitive_inputs"] == ["segment"]
        assert "segment is itself an input of the model: it can use it directly." in result["findings"]


class TestExplainModel:
    def test_same_inputs_same_explanation_and_json_safe(self, synthetic_model, synthetic_explanation) -> None:  # type: ignore[no-untyped-def]
        data, path = synthetic_model
        again = explain_model(data, model_path=path, label="label", sensitive="group", **FAST)
        assert again == synthetic_explanation
        json.dumps(again, allow_nan=False)

    def test_no_raw_values_of_an_identifier_column(self, tmp_path: Path) -> None:
        import joblib

        frame = synthetic(2, n=1500)
        frame["name"] = [f"person-{i:05d}@example.org" for i in range(len(frame))]
        from sklearn.compose import make_column_transformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        # "name" is an input column the pipeline receives (feature_names_in_) and drops.
        model = make_pipeline(
            make_column_transformer((OneHotEncoder(), ["proxy"]), ("passthrough", ["x1", "x2", "zone"])),
            LogisticRegression(),
        )
        joblib.dump(
            model.fit(frame[["x1", "x2", "zone", "proxy", "name"]], frame["label"]), tmp_path / "m.joblib"
        )
        result = explain_model(
            frame, model_path=tmp_path / "m.joblib", label="label", sensitive="group", **FAST
        )
        assert "name" in result["model"]["features"]
        assert "@example.org" not in json.dumps(result)
        assert (
            next(r for r in result["proxies"]["by_sensitive"]["group"]["features"] if r["feature"] == "name")[
                "skipped"
            ]
            == "identifier-like or constant column"
        )

    def test_large_data_is_sampled_and_says_so(self, synthetic_model) -> None:  # type: ignore[no-untyped-def]
        data, path = synthetic_model
        result = explain_model(data, model_path=path, label="label", sensitive="group", max_rows=1000, **FAST)
        assert result["sample"] == {
            "rows": 6000,
            "rows_used": 1000,
            "sampled": True,
            "random_state": 0,
            "note": "a seeded random sample of 1000 of 6000 rows",
        }
        assert sum(result["groups"]["sizes"].values()) == 1000

    def test_small_groups_are_listed_not_analysed(self, synthetic_model) -> None:  # type: ignore[no-untyped-def]
        data, path = synthetic_model
        data = data.copy()
        data.loc[data.index[:12], "group"] = "C"
        result = explain_model(data, model_path=path, label="label", sensitive="group", **FAST)
        assert result["groups"]["sizes"]["C"] == 12 and result["groups"]["too_small"] == ["C"]
        assert "C" not in result["feature_importance"]["by_group"]
        assert all(e["group"] != "C" for e in result["error_analysis"])

    @pytest.mark.parametrize(
        ("change", "options", "message"),
        [
            (lambda d: d.drop(columns=["label"]), {}, "column(s) missing from data: label"),
            (
                lambda d: d.drop(columns=["zone"]),
                {},
                "feature column(s) the model needs are missing from the data: zone",
            ),
            (  # detected, three classes are a multiclass task (tests/unit/test_explain_tasks.py)
                lambda d: d.assign(label=d.index % 3),
                {"task": "binary"},
                "label column 'label' has 3 distinct values",
            ),
            (
                lambda d: d,
                {"positive_label": "yes"},
                "positive label 'yes' does not occur in label column 'label'",
            ),
            (lambda d: d, {"sensitive": "label"}, "the label 'label' cannot also be a sensitive column"),
            (lambda d: d, {"proxy_auc_threshold": 0.3}, "proxy AUC threshold must be between 0.5 and 1.0"),
        ],
    )
    def test_bad_input_is_one_clear_error(self, synthetic_model, change, options, message) -> None:  # type: ignore[no-untyped-def]
        data, path = synthetic_model
        kwargs = {"label": "label", "sensitive": "group", **options}
        with pytest.raises(CheckInputError) as err:
            explain_model(change(data), model_path=path, **kwargs)
        assert str(err.value).startswith(message) and "\n" not in str(err.value)

    def test_missing_model_file(self, synthetic_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(CheckInputError, match="model file not found"):
            explain_model(
                synthetic_model[0], model_path=tmp_path / "none.joblib", label="label", sensitive="group"
            )


class TestDemoModel:
    def test_relationship_is_a_strong_proxy_of_sex_for_the_demo_model(self, demo: dict) -> None:
        plain = demo["plain"]
        result = explain_model(
            plain["eval_data"],
            model_path=plain["artifact"],
            label="income",
            sensitive="sex",
            positive_label=">50K",
            **FAST,
        )
        assert "sex" not in result["model"]["features"]
        assert result["summary"]["strong_proxies"] == {"sex": ["relationship"]}
        female = next(e for e in result["error_analysis"] if e["metrics"][0]["metric"] == "selection_rate")
        assert female["group"] == "Female" and female["slices"]
        assert set(result["feature_importance"]["by_group"]) == {"Female", "Male"}

    def test_mitigated_model_gets_sex_passed_through_and_uses_it(self, demo: dict) -> None:
        mitigated = demo["mitigated"]
        from govflow.policy import load_policy

        result = explain_model(
            mitigated["eval_data"],
            model_path=mitigated["artifact"],
            label="income",
            sensitive="sex",
            positive_label=">50K",
            # The skops file holds Fairlearn types: trusted because the policy lists them.
            trusted=load_policy().tier("high").artifacts.trusted_types,
            **FAST,
        )
        assert result["model"]["kind"].startswith("ThresholdOptimizer[Pipeline(")
        assert result["model"]["sensitive_inputs"] == ["sex"]
        sex = next(r for r in result["feature_importance"]["overall"] if r["feature"] == "sex")
        assert sex["prediction_change"] > 0.01  # the post-processing thresholds differ by sex


class TestChart:
    def test_svg_is_well_formed_and_names_features_and_threshold(self, synthetic_explanation: dict) -> None:
        svg = explanation_svg(synthetic_explanation)
        root = ET.fromstring(svg)
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert {"x1", "x2", "zone", "proxy", "all inputs together", "A", "B"} <= set(texts)
        assert any("threshold 0.80" in (t or "") for t in texts)
        assert len(list(root.iter("{http://www.w3.org/2000/svg}line"))) == 1

    def test_text_is_escaped(self, synthetic_explanation: dict) -> None:
        tricky = json.loads(json.dumps(synthetic_explanation).replace('"x1"', '"<script>x1"'))
        svg = explanation_svg(tricky)
        assert "<script>" not in svg and "&lt;script&gt;x1" in svg
        ET.fromstring(svg)


class TestCardView:
    def test_flat_tables_for_factors_and_quantitative_analyses(self, synthetic_explanation: dict) -> None:
        card = card_view(synthetic_explanation)
        assert card["status"] == "warn" and card["sensitive"] == ["group"] and card["threshold_auc"] == 0.8
        assert card["proxies"][0] == {
            "sensitive": "group",
            "feature": "proxy",
            "strong": True,
            "group": None,
            "auc": card["proxies"][0]["auc"],
            "model_importance": card["proxies"][0]["model_importance"],
        }
        assert card["all_features"][0]["strong"] is True
        assert card["importance_groups"] == ["B", "A"]  # the worst-off group first
        assert [r["feature"] for r in card["importance"]][:2] == ["x1", "x2"]
        assert all(len(r["by_group"]) == 2 for r in card["importance"])
        b_slices = [s for s in card["error_slices"] if s["group"] == "B"]
        assert b_slices[0]["slice"].startswith("zone > ")
        for chart in card["charts"].values():
            ET.fromstring(chart)
        json.dumps(card, allow_nan=False)

    def test_missing_and_errored_explanations(self) -> None:
        assert card_view(None) is None
        assert card_view({"status": "error", "errors": ["boom"]}) == {"status": "error", "errors": ["boom"]}

    def test_an_unknown_layout_is_an_error_view_not_an_exception(self) -> None:
        assert card_view({"status": "ok", "feature_importance": {}}) == {
            "status": "error",
            "errors": ["the explanation in the evidence has an unknown layout"],
        }


class TestModelCard:
    """The model card's Factors and Quantitative analyses show the explanation from the fairness evidence."""

    def inputs(self, explanation: dict | None):  # type: ignore[no-untyped-def]
        from govflow.docs import DocInputs
        from govflow.policy import load_policy

        policy = load_policy()
        evidence = {"by_group": {}, "summary": {}, **({"explanation": explanation} if explanation else {})}
        fairness = {
            "id": 1,
            "check": "fairness",
            "status": "warn",
            "summary": {},
            "errors": [],
            "evidence_sha256": "f" * 64,
            "created_at": "2026-11-27T10:00:00+00:00",
            "evidence": evidence,
            "evidence_problem": None,
            "run": {"dag_id": "governance_gate", "run_id": "r1"},
        }
        return DocInputs(
            model={
                "name": "m",
                "owner": "o",
                "risk_tier": "high",
                "regions": [],
                "stakeholders": [],
                "business_goals": [],
            },
            version={"model": "m", "version": "1", "stage": "candidate", "params": {}, "metrics": {}},
            policy=policy,
            check_results=[fairness],
        )

    def test_markdown_and_html_show_proxies_importance_and_error_slices(
        self, synthetic_explanation: dict
    ) -> None:
        from govflow.docs import build_context, render_document

        context = build_context(self.inputs(synthetic_explanation))
        md = render_document(context, kind="model_card", fmt="md")
        assert "| group | proxy | 0.8" in md and "| group | all 4 inputs together |" in md
        assert "### What drives the predictions, per group" in md
        assert "| feature | overall | B | A |" in md
        assert re.search(r"\| B \| errors \(accuracy [0-9.]+ vs [0-9.]+\) \| zone &gt; ", md)
        html = render_document(context, kind="model_card", fmt="html")
        titles = re.findall(r"<svg[^>]*><title>([^<]+)</title>", html)
        assert "How well each input predicts a sensitive attribute" in titles
        assert "Feature importance by group" in titles

    def test_no_explanation_no_section_and_an_errored_one_is_a_gap(self) -> None:
        from govflow.docs import build_context, render_document

        md = render_document(build_context(self.inputs(None)), kind="model_card", fmt="md")
        assert "What drives the predictions" not in md
        errored = {"status": "error", "errors": ["unsupported model file type '.bin'"]}
        md = render_document(build_context(self.inputs(errored)), kind="model_card", fmt="md")
        assert "the fairness explanation could not be computed: unsupported model file type '.bin'" in md

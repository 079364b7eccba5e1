"""Impact ratios (a hiring-tool bias audit's metric) against a hand computation, through the CLI."""

from __future__ import annotations

import json

import pytest

from govflow.checks.fairness._impact import impact_ratios
from tests._helpers import cli

# (sex, race): (rows, selected). 200 rows; (M, C) holds 3 rows = 1.5% < 2%: reported, not in the ratio.
CELLS = {
    ("M", "A"): (50, 35),
    ("M", "B"): (47, 25),
    ("M", "C"): (3, 0),
    ("F", "A"): (50, 20),
    ("F", "B"): (50, 20),
}


def _table(tmp_path):
    lines = ["sex,race,y,pred"]
    for (sex, race), (rows, selected) in CELLS.items():
        lines += [f"{sex},{race},{int(i < selected)},{int(i < selected)}" for i in range(rows)]
    path = tmp_path / "audit.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_impact_ratios_match_a_hand_computation(tmp_path, capsys):
    argv = ["check", "fairness", "--data", str(_table(tmp_path)), "--label", "y", "--prediction", "pred"]
    code, out, _ = cli(capsys, *argv, "--sensitive", "sex", "--sensitive", "race", "--json")
    result = json.loads(out)
    assert code == 1 and result["status"] == "fail"  # demographic parity 0.3 > 0.1: the audit still reports
    by_group, summary = result["by_group"], result["summary"]
    # Intersections: the highest included rate is (M, A) 35/50 = 0.7.
    assert by_group["M|A"]["impact_ratio"] == 1.0
    assert by_group["M|B"]["impact_ratio"] == pytest.approx((25 / 47) / 0.7, abs=1e-12)
    assert by_group["F|A"]["impact_ratio"] == pytest.approx(0.4 / 0.7, abs=1e-12)
    assert by_group["M|C"]["impact_ratio"] is None and by_group["M|C"]["impact_ratio_excluded"]
    assert by_group["M|C"]["share"] == pytest.approx(3 / 200)
    assert summary["impact_ratio"] == pytest.approx(0.4 / 0.7, abs=1e-12)
    assert summary["impact_ratio_excluded_groups"] == ["M|C"]
    # Each feature's own categories: sex F 40/100 over M 60/100; race C (3 rows) excluded.
    features = result["impact_ratios_by_feature"]
    assert features["sex"]["by_group"]["F"]["impact_ratio"] == pytest.approx(0.4 / 0.6, abs=1e-12)
    assert features["race"]["by_group"]["B"]["impact_ratio"] == pytest.approx((45 / 97) / 0.55, abs=1e-12)
    assert features["race"]["summary"]["impact_ratio_excluded_groups"] == ["C"]
    assert summary["impact_ratio_by_feature"] == pytest.approx({"sex": 0.4 / 0.6, "race": (45 / 97) / 0.55})


def test_no_selection_at_all_gives_no_ratio():
    per, summary = impact_ratios({"a": (50, 0), "b": (50, 0)})
    assert summary["impact_ratio"] is None and per["a"]["impact_ratio"] is None


def test_the_min_share_is_the_callers():
    per, summary = impact_ratios({"a": (90, 45), "b": (10, 1)}, min_share=0.2)
    assert per["b"]["impact_ratio_excluded"] and summary["impact_ratio"] == 1.0

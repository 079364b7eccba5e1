"""The hand-written SVG charts: valid markup, one mark per value, escaped labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from govflow.docs._svg import (
    MAX_DRIFT_COLUMNS,
    STATUS_COLOURS,
    drift_chart,
    group_metrics_chart,
    history_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
METRICS = ("selection_rate", "accuracy")


def _tree(markup) -> ET.Element:
    root = ET.fromstring(str(markup))  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


def _bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_group_chart_draws_one_bar_per_group_and_metric_scaled_to_the_rate():
    groups = [
        {"group": "Female", "count": 1650, "selection_rate": 0.25, "accuracy": 1.0, "small": False},
        {"group": "<b>Other</b>", "count": 12, "selection_rate": None, "accuracy": 0.5, "small": True},
    ]
    root = _tree(group_metrics_chart(groups, METRICS))
    bars = _bars(root)
    assert len(bars) == 4
    widths = [float(b.get("width")) for b in bars]
    assert widths == [80.0, 320.0, 0.0, 160.0]  # 320 px is a rate of 1.0; a missing rate draws nothing
    assert bars[2].find(f"{SVG}title").text == "<b>Other</b>: selection_rate n/a"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>Other</b>" in texts and "(n=12, small)" in texts


def test_drift_chart_marks_drifted_columns_and_caps_the_rows():
    columns = [{"column": f"c{i}", "drifted": i == 3, "method": "ks", "score": i / 100} for i in range(70)]
    root = _tree(drift_chart(columns))
    bars = _bars(root)
    assert len(bars) == MAX_DRIFT_COLUMNS
    assert bars[0].get("fill") == STATUS_COLOURS["fail"] and bars[0].find(f"{SVG}title").text.startswith(
        "c3:"
    )
    assert {b.get("fill") for b in bars[1:]} == {"#0072B2"}
    assert "10 more column(s) in the table below" in [t.text for t in root.iter(f"{SVG}text")]


def test_history_chart_places_results_in_time_and_colours_them_by_status():
    history = [
        {"check": "drift", "status": "pass", "date": "2026-11-01T00:00:00+00:00"},
        {"check": "drift", "status": "fail", "date": "2026-11-11T00:00:00+00:00"},
        {"check": "pii", "status": "warn", "date": "2026-11-06T00:00:00+00:00"},
        {"check": "explain", "status": "error", "date": None},
    ]
    root = _tree(history_chart(history, ("validation", "pii", "fairness", "drift")))
    dots = [c for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    assert [(float(d.get("cx")), d.get("fill")) for d in dots] == [
        (110.0, STATUS_COLOURS["pass"]),
        (570.0, STATUS_COLOURS["fail"]),
        (340.0, STATUS_COLOURS["warn"]),
        (340.0, STATUS_COLOURS["error"]),
    ]
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert [label for label in labels if label in ("pii", "drift", "explain")] == ["pii", "drift", "explain"]
    assert "2026-11-01" in labels and "2026-11-11" in labels


def test_charts_hold_no_script_or_external_reference():
    label = '<script>alert(1)</script><image href="https://example.org/p.png"/>'
    root = _tree(group_metrics_chart([{"group": label, "count": 1, "accuracy": 0.5}], METRICS))
    assert {el.tag.removeprefix(SVG) for el in root.iter()} <= {"svg", "title", "rect", "text", "line"}
    assert not [name for el in root.iter() for name in el.attrib if "href" in name or name.startswith("on")]
    assert label in [t.text for t in root.iter(f"{SVG}text")]  # the hostile label is shown as text


def test_drift_chart_draws_each_columns_threshold_on_the_same_scale():
    columns = [
        {"column": "age", "drifted": True, "method": "wasserstein", "score": 0.2, "threshold": 0.1},
        {"column": "sex", "drifted": False, "method": "chisquare", "score": 0.6, "threshold": 0.05},
    ]
    root = _tree(drift_chart(columns))
    top = 0.6 * 1.1
    bars = {b.find(f"{SVG}title").text.split(":")[0]: float(b.get("width")) for b in _bars(root)}
    assert bars == {"age": round(0.2 / top * 300, 1), "sex": round(0.6 / top * 300, 1)}
    ticks = sorted(
        float(line.get("x1")) for line in root.iter(f"{SVG}line") if line.get("stroke-width") == "2"
    )
    assert ticks == sorted([196.0, round(180 + 0.1 / top * 300, 1), round(180 + 0.05 / top * 300, 1)])

"""Hand-written inline SVG charts for the HTML documents: no JavaScript, no external assets.

Each function returns ``Markup`` holding one ``<svg>`` element; every label
is escaped here, so the charts are safe to drop into an autoescaped template.
Colours come from the one palette below (Okabe-Ito, readable with
colour-blindness and in greyscale print), and every mark also carries its
value as text or a ``<title>`` tooltip.

Charts: ``group_metrics_chart`` (fairness rates per group), ``drift_chart``
(drift score per column), ``history_chart`` (check results over time), and for
an explanation ``importance_svg`` (permutation importance per group: the model
card's "Quantitative analyses"), ``proxy_svg`` (how well each input predicts a
sensitive attribute: its "Factors") and ``explanation_svg`` (both, stacked); for measured
fairness mitigations ``frontier_chart`` (the primary metric vs the judged disparity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from govflow.docs._numbers import fmt_number, number

# Okabe-Ito.
BLUE, ORANGE, GREEN, PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
SKY, VERMILLION, YELLOW, BLACK = "#56B4E9", "#D55E00", "#F0E442", "#000000"
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW, BLACK)
# Neutrals: text, secondary text, value labels, axes, grid lines, dot outlines, a bar below its threshold.
INK, INK_SOFT, INK_VALUE, RULE, GRID = "#222", "#555", "#333", "#999", "#ddd"
WHITE, GREY, MUTED = "#fff", "#7F7F7F", "#7F9FBF"
STATUS_COLOURS = {"pass": GREEN, "warn": ORANGE, "fail": VERMILLION, "error": GREY}
FONT = "font-family:system-ui,sans-serif;font-size:11px"
MAX_DRIFT_COLUMNS = 60
# The explanation charts' geometry.
EXPLAIN_WIDTH, EXPLAIN_LABEL_W, EXPLAIN_VALUE_W, BAR_H = 640, 170, 56, 9


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(
    x: float,
    y: float,
    text: Any,
    *,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
    size: int | None = None,
) -> str:
    font_size = f' font-size="{size}"' if size else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-weight="{weight}"'
        f"{font_size}>{escape(str(text))}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" fill="{fill}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def group_metrics_chart(groups: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> Markup:
    """Horizontal bars of each rate metric (0..1) for each group; small groups are labelled."""
    label_w, bar_w, value_w, row_h, gap = 180, 320, 48, 12, 12
    width = label_w + bar_w + value_w
    legend_h = 18 * ((len(metrics) + 2) // 3) + 6
    body = []
    for i, metric in enumerate(metrics):
        x, y = 8 + (i % 3) * 180, 14 + 18 * (i // 3)
        body.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(_text(x + 14, y, metric.replace("_", " ")))
    y = legend_h
    for group in groups:
        name = str(group.get("group"))
        suffix = f" (n={group.get('count')}{', small' if group.get('small') else ''})"
        block_h = row_h * len(metrics)
        body.append(_text(label_w - 6, y + block_h / 2 - 2, name, anchor="end", weight="bold"))
        body.append(
            _text(
                label_w - 6,
                y + block_h / 2 + 10,
                suffix.strip(),
                anchor="end",
                fill=VERMILLION if group.get("small") else INK_SOFT,
            )
        )
        for i, metric in enumerate(metrics):
            value = number(group.get(metric))
            shown = 0.0 if value is None else min(max(value, 0.0), 1.0)
            top = y + i * row_h
            body.append(
                _rect(
                    label_w,
                    top + 1,
                    shown * bar_w,
                    row_h - 2,
                    PALETTE[i % len(PALETTE)],
                    f"{name}: {metric} {fmt_number(value)}",
                )
            )
            body.append(
                _text(label_w + shown * bar_w + 4, top + row_h - 2, fmt_number(value), fill=INK_VALUE)
            )
        body.append(
            f'<line x1="{label_w}" y1="{y - 2}" x2="{label_w}" y2="{y + block_h + 2}" stroke="{RULE}"/>'
        )
        y += block_h + gap
    return _svg(width, int(y) + 4, "Metrics per group", body)


def drift_chart(columns: Sequence[Mapping[str, Any]]) -> Markup:
    """One bar per column: its drift score, a tick at its threshold, drifted columns in vermillion.

    Scores are in each method's own unit (a p-value drifts below its threshold, a
    distance above it), so the bar is read against the column's own tick.
    """
    label_w, bar_w, value_w, row_h = 180, 300, 230, 16
    shown = sorted(columns, key=lambda c: (not c.get("drifted"), str(c.get("column"))))[:MAX_DRIFT_COLUMNS]
    values = [v for c in shown for v in (number(c.get("score")), number(c.get("threshold"))) if v is not None]
    top = max([*values, 1e-9]) * 1.1
    body = [
        f'<rect x="8" y="5" width="10" height="10" fill="{STATUS_COLOURS["fail"]}"/>',
        _text(22, 14, "drifted"),
        f'<rect x="90" y="5" width="10" height="10" fill="{BLUE}"/>',
        _text(104, 14, "not drifted"),
        f'<line x1="196" y1="4" x2="196" y2="16" stroke="{INK}" stroke-width="2"/>',
        _text(202, 14, "threshold"),
    ]
    y = 26
    for column in shown:
        score, threshold = number(column.get("score")), number(column.get("threshold"))
        drifted = bool(column.get("drifted"))
        colour = STATUS_COLOURS["fail"] if drifted else BLUE
        name = str(column.get("column"))
        body.append(
            _text(label_w - 6, y + row_h - 4, name, anchor="end", weight="bold" if drifted else "normal")
        )
        length = 0.0 if score is None else max(score, 0.0) / top * bar_w
        body.append(
            _rect(
                label_w,
                y + 2,
                length,
                row_h - 4,
                colour,
                f"{name}: {column.get('method')} score {fmt_number(score)}, threshold "
                f"{fmt_number(threshold)}{' (drifted)' if drifted else ''}",
            )
        )
        if threshold is not None:
            x = label_w + max(threshold, 0.0) / top * bar_w
            body.append(
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + row_h:.1f}" stroke="{INK}" '
                'stroke-width="2"/>'
            )
        body.append(
            _text(
                label_w + bar_w + 6,
                y + row_h - 4,
                f"{fmt_number(score)} vs {fmt_number(threshold)} ({column.get('method')})"
                f"{' drifted' if drifted else ''}",
            )
        )
        y += row_h
    if len(columns) > len(shown):
        body.append(_text(8, y + 12, f"{len(columns) - len(shown)} more column(s) in the table below"))
        y += 16
    return _svg(label_w + bar_w + value_w, y + 6, "Drift score per column", body)


def history_chart(history: Sequence[Mapping[str, Any]], checks: Sequence[str]) -> Markup:
    """A timeline: one row per check, one dot per recorded result, coloured by status."""
    rows = [c for c in checks if any(h.get("check") == c for h in history)]
    rows += sorted({str(h.get("check")) for h in history} - set(rows))
    label_w, plot_w, row_h, legend_h = 110, 460, 22, 24
    times = [_when(h.get("date")) for h in history]
    known = [t for t in times if t is not None]
    start, end = (min(known), max(known)) if known else (None, None)
    span = (end - start).total_seconds() if start is not None and end is not None else 0.0
    body = []
    for i, (status, colour) in enumerate(STATUS_COLOURS.items()):
        body.append(f'<circle cx="{14 + i * 70}" cy="10" r="5" fill="{colour}"/>')
        body.append(_text(22 + i * 70, 14, status))
    for index, check in enumerate(rows):
        y = legend_h + index * row_h + row_h / 2
        body.append(_text(label_w - 8, y + 4, check, anchor="end"))
        body.append(
            f'<line x1="{label_w}" y1="{y:.1f}" x2="{label_w + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
    for h, when in zip(history, times, strict=True):
        index = rows.index(str(h.get("check")))
        y = legend_h + index * row_h + row_h / 2
        x = label_w + (
            plot_w / 2
            if not span or when is None or start is None
            else (when - start).total_seconds() / span * plot_w
        )
        status = str(h.get("status"))
        tip = escape(f"{h.get('check')}: {status} on {h.get('date')}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{STATUS_COLOURS.get(status, BLACK)}" '
            f'stroke="{WHITE}"><title>{tip}</title></circle>'
        )
    axis_y = legend_h + len(rows) * row_h + 14
    if start is not None:
        body.append(_text(label_w, axis_y, start.date().isoformat()))
        if span and end is not None:
            body.append(_text(label_w + plot_w, axis_y, end.date().isoformat(), anchor="end"))
    return _svg(label_w + plot_w + 20, int(axis_y) + 6, "History of check results", body)


def _when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def explanation_svg(explanation: Mapping[str, Any], *, max_features: int = 8) -> Markup:
    """Both explanation charts in one ``<svg>`` element (importance by group above, proxies below)."""
    top, top_h = _importance_parts(explanation, max_features)
    low, low_h = _proxy_parts(explanation, max_features)
    body = [*top, f'<g transform="translate(0,{top_h})">', *low, "</g>"]
    title = "Feature importance by group and proxy strength of each input"
    return _svg(EXPLAIN_WIDTH, max(top_h + low_h, 40), title, body)


def importance_svg(explanation: Mapping[str, Any], *, max_features: int = 8) -> Markup:
    parts, height = _importance_parts(explanation, max_features)
    return _svg(EXPLAIN_WIDTH, max(height, 40), "Feature importance by group", parts)


def proxy_svg(explanation: Mapping[str, Any], *, max_features: int = 8) -> Markup:
    parts, height = _proxy_parts(explanation, max_features)
    return _svg(EXPLAIN_WIDTH, max(height, 40), "How well each input predicts a sensitive attribute", parts)


def _importance_parts(explanation: Mapping[str, Any], max_features: int) -> tuple[list[str], int]:
    importance = explanation["feature_importance"]
    features = [r["feature"] for r in importance["overall"][:max_features]]
    series: list[tuple[str, dict[str, float]]] = [
        (group, {r["feature"]: r["prediction_change"] for r in entry["features"]})
        for group, entry in importance["by_group"].items()
    ] or [("all rows", {r["feature"]: r["prediction_change"] for r in importance["overall"]})]
    series = series[: len(PALETTE)]
    peak = max([v for _, values in series for v in values.values()] + [1e-9])
    title = "What drives predictions: share of predictions that change when an input is shuffled"
    parts = [_text(8, 16, title, weight="bold")]
    x = 8
    for i, (group, _) in enumerate(series):  # legend
        parts.append(f'<rect x="{x}" y="24" width="10" height="10" fill="{PALETTE[i]}"/>')
        parts.append(_text(x + 14, 33, group))
        x += 24 + 7 * len(group)
    y = 46
    span = EXPLAIN_WIDTH - EXPLAIN_LABEL_W - EXPLAIN_VALUE_W - 8
    for feature in features:
        block = len(series) * (BAR_H + 1)
        parts.append(_text(EXPLAIN_LABEL_W - 6, y + block / 2 + 4, _short(feature), anchor="end"))
        for i, (group, values) in enumerate(series):
            value = max(0.0, values.get(feature, 0.0))
            width = span * value / peak
            tip = f"{feature}, {group}: {100 * value:.1f}%"
            parts.append(_rect(EXPLAIN_LABEL_W, y, width, BAR_H, PALETTE[i], tip))
            parts.append(_text(EXPLAIN_LABEL_W + width + 4, y + BAR_H - 1, f"{100 * value:.1f}%", size=9))
            y += BAR_H + 1
        y += 6
    return parts, y + 6


def _proxy_parts(explanation: Mapping[str, Any], max_features: int) -> tuple[list[str], int]:
    proxies = explanation["proxies"]
    threshold = proxies["threshold_auc"]
    span = EXPLAIN_WIDTH - EXPLAIN_LABEL_W - EXPLAIN_VALUE_W - 8
    parts: list[str] = []
    y = 16
    for column, entry in proxies["by_sensitive"].items():
        title = (
            f"How well each input predicts {column} (AUC; 0.5 = not at all, "
            f"dashed line = threshold {threshold:.2f})"
        )
        parts.append(_text(8, y, title, weight="bold"))
        y += 10
        rows = []
        if entry.get("all_features"):
            rows.append(
                ("all inputs together", entry["all_features"]["auc"], entry["all_features"]["strong"])
            )
        rows += [
            (r["feature"], r["auc"], r.get("strong", False))
            for r in entry["features"][:max_features]
            if r["auc"] is not None
        ]
        top = y
        for name, auc, strong in rows:
            width = span * max(0.0, auc - 0.5) / 0.5
            label = _short(name)
            weight = "bold" if strong else "normal"
            parts.append(_text(EXPLAIN_LABEL_W - 6, y + BAR_H + 1.5, label, anchor="end", weight=weight))
            colour = VERMILLION if strong else MUTED
            parts.append(_rect(EXPLAIN_LABEL_W, y + 2, width, BAR_H, colour, f"{name}: AUC {auc:.3f}"))
            parts.append(_text(EXPLAIN_LABEL_W + width + 4, y + BAR_H + 1, f"{auc:.2f}", size=9))
            y += BAR_H + 5
        line_x = EXPLAIN_LABEL_W + span * (threshold - 0.5) / 0.5
        parts.append(
            f'<line x1="{line_x:.1f}" y1="{top}" x2="{line_x:.1f}" y2="{y}" stroke="{INK_VALUE}" '
            'stroke-dasharray="3,2"/>'
        )
        y += 18
    return parts, y


def frontier_chart(
    points: Sequence[Mapping[str, Any]],
    *,
    limit: float | None,
    x_label: str,
    y_label: str,
) -> Markup:
    """The trade-off frontier: one dot per candidate at (disparity, primary metric), with 95% bars.

    ``points``: ``name``, ``disparity``, ``primary_metric``, ``disparity_ci`` and ``primary_ci``
    (``[low, high]`` or None), ``recommended`` and ``baseline`` flags. The policy's limit is a
    dashed vertical line (candidates left of it pass); the recommended candidate is ringed.
    """
    left, top, plot_w, plot_h, label_w = 64, 34, 400, 200, 250
    shown = [
        p
        for p in points
        if number(p.get("disparity")) is not None and number(p.get("primary_metric")) is not None
    ]
    xs = [v for p in shown for v in (p["disparity"], *(p.get("disparity_ci") or ()))]
    ys = [v for p in shown for v in (p["primary_metric"], *(p.get("primary_ci") or ()))]
    x_hi = max([*xs, limit or 0.0, 1e-9]) * 1.1
    pad = max((max(ys, default=1.0) - min(ys, default=0.0)) * 0.1, 0.005)
    y_lo, y_hi = min(ys, default=0.0) - pad, max(ys, default=1.0) + pad

    def at(disparity: float, primary: float) -> tuple[float, float]:
        return left + plot_w * disparity / x_hi, top + plot_h * (y_hi - primary) / (y_hi - y_lo)

    body = [
        f'<circle cx="14" cy="12" r="5" fill="{BLUE}"/>',
        _text(24, 16, "candidate"),
        f'<circle cx="104" cy="12" r="5" fill="{GREY}"/>',
        _text(114, 16, "unmitigated"),
        f'<circle cx="208" cy="12" r="5" fill="{GREEN}" stroke="{BLACK}" stroke-width="2"/>',
        _text(218, 16, "recommended"),
        _line(310, 6, 310, 18, VERMILLION, dashed=True),
        _text(316, 16, "policy limit"),
        _text(400, 16, "bars: 95% bootstrap intervals", fill=INK_SOFT),
    ]
    for i in range(5):  # grid and ticks
        xv, yv = x_hi * i / 4, y_lo + (y_hi - y_lo) * i / 4
        x, y = at(xv, yv)
        body.append(_line(x, top, x, top + plot_h, GRID))
        body.append(_line(left, y, left + plot_w, y, GRID))
        body.append(_text(x, top + plot_h + 14, f"{xv:.3f}", anchor="middle", fill=INK_SOFT))
        body.append(_text(left - 4, y + 4, f"{yv:.3f}", anchor="end", fill=INK_SOFT))
    middle = top + plot_h / 2
    body += [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{RULE}"/>',
        _text(left + plot_w / 2, top + plot_h + 32, x_label, anchor="middle", weight="bold"),
        f'<text x="14" y="{middle:.1f}" text-anchor="middle" fill="{INK}" font-weight="bold" '
        f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>',
    ]
    if limit is not None:
        x = at(limit, y_hi)[0]
        body.append(_line(x, top, x, top + plot_h, VERMILLION, dashed=True, tip=f"policy limit {limit:g}"))
        body.append(_text(x + 4, top + 12, f"limit {fmt_number(limit)}", fill=VERMILLION))
    for index, p in enumerate(shown):
        x, y = at(p["disparity"], p["primary_metric"])
        if p.get("disparity_ci"):
            low, high = p["disparity_ci"]
            body.append(_line(at(low, 0)[0], y, at(high, 0)[0], y, INK_SOFT))
        if p.get("primary_ci"):
            low, high = p["primary_ci"]
            body.append(_line(x, at(0, low)[1], x, at(0, high)[1], INK_SOFT))
        recommended = bool(p.get("recommended"))
        colour = GREEN if recommended else GREY if p.get("baseline") else BLUE
        ring = f'stroke="{BLACK}" stroke-width="2"' if recommended else f'stroke="{WHITE}"'
        name = str(p.get("name"))
        tip = f"{name}: {x_label} {p['disparity']:.4f}, {y_label} {p['primary_metric']:.4f}"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}" {ring}>'
            f"<title>{escape(tip)}</title></circle>"
        )
        # Names sit in a column right of the plot, each joined to its dot (dots may crowd).
        label_y = top + 10 + index * 16
        body.append(_line(x, y, left + plot_w + 6, label_y - 4, GRID))
        label = _short(name + (" (recommended)" if recommended else ""), 40)
        body.append(_text(left + plot_w + 10, label_y, label, weight="bold" if recommended else "normal"))
    title = f"Trade-off frontier: {y_label} vs {x_label}"
    return _svg(left + plot_w + label_w, top + plot_h + 44, title, body)


def _line(
    x1: float, y1: float, x2: float, y2: float, colour: str, *, dashed: bool = False, tip: str = ""
) -> str:
    dash = ' stroke-width="2" stroke-dasharray="4,3"' if dashed else ""
    title = f"<title>{escape(tip)}</title>" if tip else ""
    ends = f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
    return f'<line {ends} stroke="{colour}"{dash}>{title}</line>'

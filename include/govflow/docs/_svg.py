"""Hand-written inline SVG charts for the HTML documents: no JavaScript, no external assets.

Each function returns ``Markup`` holding one ``<svg>`` element; every label
is escaped here, so the charts are safe to drop into an autoescaped template.
Colours come from the Okabe-Ito palette (readable with colour-blindness), and
every mark also carries its value as text or a ``<title>`` tooltip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from govflow.docs._views import fmt_number, number

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
STATUS_COLOURS = {"pass": "#009E73", "warn": "#E69F00", "fail": "#D55E00", "error": "#7F7F7F"}
FONT = "font-family:system-ui,sans-serif;font-size:11px"
MAX_DRIFT_COLUMNS = 60


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(
    x: float, y: float, text: Any, *, anchor: str = "start", fill: str = "#222", weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-weight="{weight}">'
        f"{escape(str(text))}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" fill="{fill}">'
        f"<title>{escape(tip)}</title></rect>"
    )


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
                fill="#D55E00" if group.get("small") else "#555",
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
            body.append(_text(label_w + shown * bar_w + 4, top + row_h - 2, fmt_number(value), fill="#333"))
        body.append(
            f'<line x1="{label_w}" y1="{y - 2}" x2="{label_w}" y2="{y + block_h + 2}" stroke="#999"/>'
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
    top = max(values + [1e-9]) * 1.1
    body = [
        f'<rect x="8" y="5" width="10" height="10" fill="{STATUS_COLOURS["fail"]}"/>',
        _text(22, 14, "drifted"),
        f'<rect x="90" y="5" width="10" height="10" fill="{PALETTE[0]}"/>',
        _text(104, 14, "not drifted"),
        '<line x1="196" y1="4" x2="196" y2="16" stroke="#222" stroke-width="2"/>',
        _text(202, 14, "threshold"),
    ]
    y = 26
    for column in shown:
        score, threshold = number(column.get("score")), number(column.get("threshold"))
        drifted = bool(column.get("drifted"))
        colour = STATUS_COLOURS["fail"] if drifted else PALETTE[0]
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
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + row_h:.1f}" stroke="#222" '
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
    span = (end - start).total_seconds() if start and end else 0.0
    body = []
    for i, (status, colour) in enumerate(STATUS_COLOURS.items()):
        body.append(f'<circle cx="{14 + i * 70}" cy="10" r="5" fill="{colour}"/>')
        body.append(_text(22 + i * 70, 14, status))
    for index, check in enumerate(rows):
        y = legend_h + index * row_h + row_h / 2
        body.append(_text(label_w - 8, y + 4, check, anchor="end"))
        body.append(f'<line x1="{label_w}" y1="{y:.1f}" x2="{label_w + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
    for h, when in zip(history, times):
        index = rows.index(str(h.get("check")))
        y = legend_h + index * row_h + row_h / 2
        x = label_w + (
            plot_w / 2 if not span or when is None else (when - start).total_seconds() / span * plot_w
        )
        status = str(h.get("status"))
        tip = escape(f"{h.get('check')}: {status} on {h.get('date')}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{STATUS_COLOURS.get(status, "#000")}" '
            f'stroke="#fff"><title>{tip}</title></circle>'
        )
    axis_y = legend_h + len(rows) * row_h + 14
    if start is not None:
        body.append(_text(label_w, axis_y, start.date().isoformat()))
        if span:
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

"""Small inline SVG charts of an explanation, for the model card (no JavaScript, no external assets).

``importance_svg``: permutation importance of the top features, one bar per
group (the model card's "Quantitative analyses"); ``proxy_svg``: how well
each input predicts each sensitive attribute, with the policy threshold
(its "Factors"); ``explanation_svg``: both, stacked.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 640
LABEL_W = 170
VALUE_W = 56
BAR_H = 9
# Okabe-Ito: distinguishable with colour-blindness and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STRONG = "#D55E00"
WEAK = "#7F9FBF"
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def explanation_svg(explanation: dict[str, Any], *, max_features: int = 8) -> str:
    """Both charts in one ``<svg>`` element (importance by group above, proxies below)."""
    top, top_h = _importance_parts(explanation, max_features)
    low, low_h = _proxy_parts(explanation, max_features)
    body = top + [f'<g transform="translate(0,{top_h})">'] + low + ["</g>"]
    title = "Feature importance by group and proxy strength of each input"
    return _svg(body, top_h + low_h, title)


def importance_svg(explanation: dict[str, Any], *, max_features: int = 8) -> str:
    parts, height = _importance_parts(explanation, max_features)
    return _svg(parts, height, "Feature importance by group")


def proxy_svg(explanation: dict[str, Any], *, max_features: int = 8) -> str:
    parts, height = _proxy_parts(explanation, max_features)
    return _svg(parts, height, "How well each input predicts a sensitive attribute")


def _svg(parts: list[str], height: int, title: str) -> str:
    height = max(height, 40)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" {FONT} font-size="11">'
        f"<title>{escape(title)}</title>" + "".join(parts) + "</svg>"
    )


def _importance_parts(explanation: dict[str, Any], max_features: int) -> tuple[list[str], int]:
    importance = explanation["feature_importance"]
    features = [r["feature"] for r in importance["overall"][:max_features]]
    series: list[tuple[str, dict[str, float]]] = [
        (group, {r["feature"]: r["prediction_change"] for r in entry["features"]})
        for group, entry in importance["by_group"].items()
    ] or [("all rows", {r["feature"]: r["prediction_change"] for r in importance["overall"]})]
    series = series[: len(PALETTE)]
    peak = max([v for _, values in series for v in values.values()] + [1e-9])
    parts = [
        _text(
            8,
            16,
            "What drives predictions: share of predictions that change when an input is shuffled",
            bold=True,
        )
    ]
    x = 8
    for i, (group, _) in enumerate(series):  # legend
        parts.append(f'<rect x="{x}" y="24" width="10" height="10" fill="{PALETTE[i]}"/>')
        parts.append(_text(x + 14, 33, group))
        x += 24 + 7 * len(group)
    y = 46
    span = WIDTH - LABEL_W - VALUE_W - 8
    for feature in features:
        block = len(series) * (BAR_H + 1)
        parts.append(_text(LABEL_W - 6, y + block / 2 + 4, _short(feature), anchor="end"))
        for i, (group, values) in enumerate(series):
            value = max(0.0, values.get(feature, 0.0))
            width = span * value / peak
            parts.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="{PALETTE[i]}">'
                f"<title>{escape(f'{feature}, {group}: {100 * value:.1f}%')}</title></rect>"
            )
            parts.append(_text(LABEL_W + width + 4, y + BAR_H - 1, f"{100 * value:.1f}%", size=9))
            y += BAR_H + 1
        y += 6
    return parts, y + 6


def _proxy_parts(explanation: dict[str, Any], max_features: int) -> tuple[list[str], int]:
    proxies = explanation["proxies"]
    threshold = proxies["threshold_auc"]
    span = WIDTH - LABEL_W - VALUE_W - 8
    parts: list[str] = []
    y = 16
    for column, entry in proxies["by_sensitive"].items():
        parts.append(
            _text(
                8,
                y,
                f"How well each input predicts {column} (AUC; 0.5 = not at all, "
                f"dashed line = threshold {threshold:.2f})",
                bold=True,
            )
        )
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
            parts.append(_text(LABEL_W - 6, y + BAR_H + 1.5, _short(name), anchor="end", bold=strong))
            parts.append(
                f'<rect x="{LABEL_W}" y="{y + 2}" width="{width:.1f}" height="{BAR_H}" '
                f'fill="{STRONG if strong else WEAK}">'
                f"<title>{escape(f'{name}: AUC {auc:.3f}')}</title></rect>"
            )
            parts.append(_text(LABEL_W + width + 4, y + BAR_H + 1, f"{auc:.2f}", size=9))
            y += BAR_H + 5
        line_x = LABEL_W + span * (threshold - 0.5) / 0.5
        parts.append(
            f'<line x1="{line_x:.1f}" y1="{top}" x2="{line_x:.1f}" y2="{y}" stroke="#333" '
            'stroke-dasharray="3,2"/>'
        )
        y += 18
    return parts, y


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", bold: bool = False, size: int | None = None
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    font_size = f' font-size="{size}"' if size else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{weight}{font_size}>{escape(text)}</text>'


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

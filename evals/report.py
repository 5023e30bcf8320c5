"""A self-contained HTML report (inline SVG charts, no scripts or external files) for `newsdesk eval all`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# MultiHop-RAG paper, Table 5 (256-token chunks; "+RR" = bge-reranker-large over the top 20), from shared/data/README.
PUBLISHED = {
    "text-embedding-ada-002": {"hits@4": 0.5040, "hits@10": 0.6381, "mrr@10": 0.4203},
    "bge-large-en-v1.5": {"hits@4": 0.5221, "hits@10": 0.6718, "mrr@10": 0.4298},
    "voyage-02 +RR": {"hits@4": 0.6625, "hits@10": 0.7467, "mrr@10": 0.5860},
}
COLOURS = ["#1f5f99", "#d9822b", "#3b8f4f", "#8a4fa3", "#b03a3a", "#5a6b7b"]


def bars(title: str, groups: dict[str, dict[str, float]], width: int = 640, unit: str = "") -> str:
    """Grouped horizontal bars: one group per key, one bar per series; values in [0, 1] unless unit is given."""
    series = sorted({s for values in groups.values() for s in values})
    peak = max((v for values in groups.values() for v in values.values()), default=1.0) or 1.0
    scale = 1.0 if not unit and peak <= 1.0 else peak
    row, label_w, height = 16, 190, 30
    parts = []
    for group, values in groups.items():
        parts.append(f'<text x="0" y="{height + 12}" font-weight="bold">{html.escape(group)}</text>')
        height += 16
        for i, name in enumerate(series):
            if name not in values:
                continue
            value = values[name]
            length = max(1.0, (width - label_w - 60) * value / scale)
            colour = COLOURS[i % len(COLOURS)]
            parts.append(
                f'<text x="8" y="{height + 12}">{html.escape(name)}</text>'
                f'<rect x="{label_w}" y="{height + 2}" width="{length:.1f}" height="{row - 4}" fill="{colour}"/>'
                f'<text x="{label_w + length + 4:.1f}" y="{height + 12}">{value:.3f}{unit}</text>'
            )
            height += row
        height += 6
    return (
        f'<figure><figcaption>{html.escape(title)}</figcaption><svg role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{height + 10}" font-size="12" font-family="sans-serif">'
        f"{''.join(parts)}</svg></figure>"
    )


def histogram(title: str, values: Sequence[float], bins: int = 20, unit: str = "", width: int = 640) -> str:
    if not values:
        return f"<p>{html.escape(title)}: no data</p>"
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / step))] += 1
    tallest = max(counts)
    bar_w, plot_h = (width - 40) / bins, 120
    rects = "".join(
        f'<rect x="{20 + i * bar_w:.1f}" y="{10 + plot_h - plot_h * c / tallest:.1f}" width="{bar_w - 1:.1f}" '
        f'height="{plot_h * c / tallest:.1f}" fill="#1f5f99"><title>{low + i * step:.2f}–{low + (i + 1) * step:.2f}'
        f"{unit}: {c}</title></rect>"
        for i, c in enumerate(counts)
    )
    axis = (
        f'<text x="20" y="{plot_h + 26}">{low:.2f}{unit}</text>'
        f'<text x="{width - 20}" y="{plot_h + 26}" text-anchor="end">{high:.2f}{unit}</text>'
    )
    return (
        f'<figure><figcaption>{html.escape(title)} (n={len(values)})</figcaption><svg role="img" '
        f'aria-label="{html.escape(title)}" width="{width}" height="{plot_h + 32}" font-size="12" '
        f'font-family="sans-serif">{rects}{axis}</svg></figure>'
    )


def table(rows: list[dict[str, Any]]) -> str:
    head = "<tr><th>metric</th><th>baseline</th><th>current</th><th>delta</th><th></th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(r['metric'])}</td><td>{r['baseline']}</td><td>{r['current']}</td><td>{r['delta']}</td>"
        f"<td>{'REGRESSED' if r['regressed'] else ''}</td></tr>"
        for r in rows
        if r["gated"]
    )
    return f"<table>{head}{body}</table>"


def render(summary: dict[str, Any], charts: list[str], comparison: list[dict[str, Any]] | None) -> str:
    style = (
        "body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#1a1a1a;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
        "td:first-child{text-align:left}figcaption{font-weight:bold;margin:1em 0 .3em}"
    )
    compared = table(comparison) if comparison else "<p>No baseline given.</p>"
    headline = "".join(
        f"<li>{html.escape(suite)}: "
        + ", ".join(
            f"{k} {v}" for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        )
        + "</li>"
        for suite, values in summary.items()
        if isinstance(values, dict) and suite not in ("settings",)
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>newsdesk eval report</title>"
        f"<style>{style}</style></head><body><h1>newsdesk eval report</h1>"
        f"<p>code {html.escape(str(summary.get('code_version')))} · "
        f"writer {html.escape(str(summary.get('writer')))}</p>"
        f"<h2>Headline figures</h2><ul>{headline}</ul><h2>Charts</h2>{''.join(charts)}"
        f"<h2>Against the baseline (gated metrics)</h2>{compared}</body></html>"
    )

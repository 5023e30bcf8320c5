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


def histogram(
    title: str,
    values: Sequence[float],
    bins: int = 20,
    unit: str = "",
    width: int = 640,
    upper: float | None = None,
    note: str = "",
) -> str:
    """Counts per bin; with ``upper``, bins span up to it and larger values are counted in one last "more" bar, so
    a few outliers do not flatten the rest."""
    if not values:
        return f"<p>{html.escape(title)}: no data</p>"
    low, high = min(values), max(values)
    clipped = upper is not None and upper < high
    top = upper if clipped and upper is not None else high
    step = (top - low) / bins or 1.0
    counts = [0] * (bins + 1 if clipped else bins)
    for value in values:
        counts[len(counts) - 1 if value > top else min(bins - 1, int((value - low) / step))] += 1
    tallest = max(counts)
    bar_w, plot_h = (width - 40) / len(counts), 120
    rects = "".join(
        f'<rect x="{20 + i * bar_w:.1f}" y="{10 + plot_h - plot_h * c / tallest:.1f}" width="{bar_w - 1:.1f}" '
        f'height="{plot_h * c / tallest:.1f}" fill="{"#b03a3a" if i == bins else "#1f5f99"}"><title>'
        + (
            f"over {top:.2f}{unit} (up to {high:.2f}{unit})"
            if i == bins
            else f"{low + i * step:.2f}–{low + (i + 1) * step:.2f}{unit}"
        )
        + f": {c}</title></rect>"
        for i, c in enumerate(counts)
    )
    right = f"{top:.2f}{unit} | more, up to {high:.2f}{unit}" if clipped else f"{high:.2f}{unit}"
    axis = (
        f'<text x="20" y="{plot_h + 26}">{low:.2f}{unit}</text>'
        f'<text x="{width - 20}" y="{plot_h + 26}" text-anchor="end">{html.escape(right)}</text>'
    )
    caption = f"{html.escape(title)} (n={len(values)})" + (f" — {html.escape(note)}" if note else "")
    return (
        f'<figure><figcaption>{caption}</figcaption><svg role="img" '
        f'aria-label="{html.escape(title)}" width="{width}" height="{plot_h + 32}" font-size="12" '
        f'font-family="sans-serif">{rects}{axis}</svg></figure>'
    )


def latency_histogram(title: str, latencies_ms: Sequence[float]) -> str:
    """The first query (cold start: index and model load) stated apart; the rest drawn up to their 99th percentile."""
    if len(latencies_ms) < 2:
        return histogram(title, latencies_ms, unit=" ms")
    first, rest = latencies_ms[0], sorted(latencies_ms[1:])
    p99 = rest[min(len(rest) - 1, int(0.99 * len(rest)))]
    median = rest[len(rest) // 2]
    note = (
        f"first query (cold start, index load) {first:.0f} ms, not drawn; median of the rest {median:.1f} ms"
    )
    return histogram(title, latencies_ms[1:], unit=" ms", upper=p99, note=note)


def split_histogram(title: str, groups: dict[str, Sequence[float]], bins: int = 10, width: int = 640) -> str:
    """Side-by-side bars per bin over [0, 1], one colour per group (e.g. answerable vs unanswerable questions),
    each group as a share of its own size so groups of different sizes compare."""
    step, plot_h = 1.0 / bins, 120
    bin_w = (width - 40) / bins
    bar_w = (bin_w - 2) / max(1, len(groups))
    shares: dict[str, list[float]] = {}
    for name, values in groups.items():
        counts = [0] * bins
        for value in values:
            counts[min(bins - 1, max(0, int(value / step)))] += 1
        shares[name] = [c / max(1, len(values)) for c in counts]
    tallest = max((share for row in shares.values() for share in row), default=0.0) or 1.0
    parts, legend = [], []
    for g, (name, row) in enumerate(shares.items()):
        colour = COLOURS[g % len(COLOURS)]
        for i, share in enumerate(row):
            h = plot_h * share / tallest
            parts.append(
                f'<rect x="{20 + i * bin_w + g * bar_w:.1f}" y="{10 + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{html.escape(name)} {i * step:.1f}–{(i + 1) * step:.1f}: '
                f"{share:.0%}</title></rect>"
            )
        legend.append(f'<tspan fill="{colour}">■</tspan> {html.escape(name)} (n={len(groups[name])}) ')
    axis = (
        f'<text x="20" y="{plot_h + 26}">0</text><text x="{width - 20}" y="{plot_h + 26}" text-anchor="end">1</text>'
        f'<text x="{width / 2:.0f}" y="{plot_h + 26}" text-anchor="middle">{"".join(legend)}</text>'
    )
    return (
        f"<figure><figcaption>{html.escape(title)} (share of each group per bin)</figcaption>"
        f'<svg role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{plot_h + 32}" font-size="12" font-family="sans-serif">{"".join(parts)}{axis}'
        "</svg></figure>"
    )


# Breakdowns and corpus bookkeeping stay in the full comparison at the end; the headline shows each suite's figures.
BREAKDOWNS = {"per_type", "by_half", "held_out", "cnndm", "xsum", "corpus"}


def _number(value: Any, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = "+" if signed else ""
    text = f"{value:{sign}.3f}" if abs(value) < 100 else f"{value:{sign}.0f}"
    return text.replace("-", "−")


def verdict(row: dict[str, Any], has_baseline: bool) -> str:
    if not has_baseline:
        return '<td class="none">no baseline</td>'
    if row["baseline"] is None:
        return '<td class="none">new</td>'
    if row["current"] is None:
        return '<td class="none">missing</td>'
    if row["regressed"]:
        return '<td class="fail">✘ fail</td>'
    return '<td class="pass">✔ pass</td>'


def headline_table(rows: list[dict[str, Any]], has_baseline: bool) -> str:
    """Per suite, each gated figure (breakdowns by type or half left out): baseline, current, change, verdict."""
    shown = [
        r
        for r in rows
        if r["gated"] and r["current"] is not None and not BREAKDOWNS & set(r["metric"].split("."))
    ]
    failed = sum(r["regressed"] for r in shown)
    compared = sum(r["baseline"] is not None for r in shown)
    new = f" ({len(shown) - compared} new, not in the baseline)" if compared < len(shown) else ""
    if not has_baseline:
        status = "<p>No baseline given: figures only (pass <code>--baseline DIR</code> to compare).</p>"
    elif not compared:
        status = '<p class="none">The baseline holds none of these figures: nothing to compare.</p>'
    elif failed:
        status = (
            f'<p class="fail">✘ {failed} of {compared} compared figures fell beyond the tolerance{new}.</p>'
        )
    else:
        status = f'<p class="pass">✔ all {compared} compared figures within the tolerance of the baseline{new}.</p>'
    head = "<tr><th>metric</th><th>baseline</th><th>current</th><th>change</th><th>verdict</th></tr>"
    body, suite = [], ""
    for row in shown:
        first, _, rest = row["metric"].partition(".")
        if first != suite:
            suite = first
            body.append(f'<tr class="suite"><th colspan="5">{html.escape(suite)}</th></tr>')
        body.append(
            f"<tr><td>{html.escape(rest)}</td><td>{_number(row['baseline'])}</td><td>{_number(row['current'])}</td>"
            f"<td>{_number(row['delta'], signed=True)}</td>{verdict(row, has_baseline)}</tr>"
        )
    return f'{status}<table class="headline">{head}{"".join(body)}</table>'


def table(rows: list[dict[str, Any]]) -> str:
    head = "<tr><th>metric</th><th>baseline</th><th>current</th><th>delta</th><th></th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(r['metric'])}</td><td>{r['baseline']}</td><td>{r['current']}</td><td>{r['delta']}</td>"
        f"<td>{'REGRESSED' if r['regressed'] else ''}</td></tr>"
        for r in rows
        if r["gated"]
    )
    return f"<table>{head}{body}</table>"


def render(
    summary: dict[str, Any], charts: list[str], comparison: list[dict[str, Any]], has_baseline: bool
) -> str:
    """``comparison``: ``evals.smoke.compare(baseline or {}, summary, tolerance)``."""
    style = (
        "body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#1a1a1a;line-height:1.4}"
        "table{border-collapse:collapse;max-width:100%}"
        "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right;overflow-wrap:anywhere}"
        "td:first-child,th:first-child{text-align:left}figcaption{font-weight:bold;margin:1em 0 .3em}"
        "tr.suite th{text-align:left;background:#eef2f6}.pass{color:#2b7a3d}.fail{color:#b03a3a;font-weight:bold}"
        ".none{color:#666}"
    )
    compared = table(comparison) if has_baseline else "<p>No baseline given.</p>"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>newsdesk eval report</title>"
        f"<style>{style}</style></head><body><h1>newsdesk eval report</h1>"
        f"<p>code {html.escape(str(summary.get('code_version')))} · "
        f"writer {html.escape(str(summary.get('writer')))}</p>"
        f"<h2>Headline figures</h2>{headline_table(comparison, has_baseline)}<h2>Charts</h2>{''.join(charts)}"
        f"<h2>Against the baseline (every gated metric)</h2>{compared}</body></html>"
    )

"""The report's charts, drawn as inline SVG by these few functions.

Why not a chart library (measured for this report, 2026-12): Vega-Lite through altair +
vl-convert inlines 898 KB of JavaScript into every report and adds a 33.5 MB wheel (vl-convert
bundles a JavaScript runtime) plus altair's; plotly inlines 4.8 MB of plotly.min.js from a 9.7 MB
wheel. The charts here are bars and lines over a few dozen aggregated points: inline SVG draws
them in a few KB, with no script at all (they draw with JavaScript off, print, and work offline),
and a hover shows each mark's numbers (an SVG ``<title>``). Each chart's numbers are also printed
as a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
STATUS_COLOURS = {"ok": "#009E73", "not_found": "#999999", "not_in_source": "#56B4E9",
                  "failed": "#D55E00", "pending": "#E69F00", "unattempted": "#CCCCCC"}  # fmt: skip
WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return value


def bar_chart(label: str, names: Sequence[str], values: Sequence[float], *, unit: str = "") -> str:
    """Horizontal bars, one per name (``unit`` follows each value, e.g. '%')."""
    return stacked_bars(label, names, {"": list(values)}, unit=unit)


def stacked_bars(
    label: str,
    names: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    unit: str = "",
    colours: dict[str, str] | None = None,
) -> str:
    """Horizontal bars, one per name, each split into the ``series`` (a legend above)."""
    colours = colours or {}
    left, right, row, top = 130, 70, 26, 28 if len(series) > 1 else 8
    totals = [sum(vals[i] or 0 for vals in series.values()) for i in range(len(names))]
    scale = (WIDTH - left - right) / _nice_max(max(totals, default=0))
    body = []
    if len(series) > 1:
        x = left
        for n, key in enumerate(series):
            colour = colours.get(key, PALETTE[n % len(PALETTE)])
            body.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
                        f'<text x="{x + 14}" y="15">{escape(key)}</text>')  # fmt: skip
            x += 24 + 7 * len(key)
    for i, name in enumerate(names):
        y = top + i * row
        body.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(_short(str(name), 22))}</text>'
        )
        x = float(left)
        for n, (key, vals) in enumerate(series.items()):
            value = vals[i] or 0
            width = value * scale
            if width <= 0:
                continue
            colour = colours.get(key, PALETTE[n % len(PALETTE)])
            tip = f"{name}{' ' + key if key else ''}: {_number(value)}{unit}"
            body.append(f'<rect class="mark" x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" '
                        f'fill="{colour}"><title>{escape(tip)}</title></rect>')  # fmt: skip
            x += width
        body.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{_number(totals[i])}{escape(unit)}</text>')
    return _svg(top + row * max(len(names), 1) + 6, label, body)


def column_chart(label: str, names: Sequence[str], values: Sequence[float]) -> str:
    """Vertical columns over an ordered axis (years), labelled below, values on hover."""
    height, bottom, top, left = 220, 24, 12, 56
    plot_h = height - bottom - top
    top_value = _nice_max(max(values, default=0))
    step = (WIDTH - left - 10) / max(len(names), 1)
    body = _y_axis(left, top, plot_h, top_value)
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        h = (value or 0) / top_value * plot_h
        x = left + i * step
        body.append(f'<rect class="mark" x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
                    f"<title>{escape(str(name))}: {_number(value or 0)}</title></rect>")  # fmt: skip
        if len(names) <= 16 or i % (len(names) // 12 + 1) == 0:
            body.append(f'<text x="{x + step / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                        f"{escape(str(name))}</text>")  # fmt: skip
    return _svg(height, label, body)


def _compact(value: float) -> str:
    """Axis labels fit the margin: 25,000,000 -> 25M, 12,500 -> 12.5k."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return _number(value)


def _y_axis(left: int, top: int, plot_h: float, top_value: float) -> list[str]:
    out = []
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_compact(value)}</text>')  # fmt: skip
    return out


def line_chart(label: str, series: dict[str, Sequence[tuple[str, float]]]) -> str:
    """One line per series over a shared, ordered x axis (years or dates as text); a legend
    below; each point's value on hover."""
    xs = sorted({x for points in series.values() for x, _ in points})
    height, top, left, axis = 230, 12, 56, 40
    legend_rows = (len(series) + 1) // 2
    plot_h = height - top - axis
    top_value = _nice_max(max((y for pts in series.values() for _, y in pts), default=0))
    step = (WIDTH - left - 20) / max(len(xs) - 1, 1)
    pos = {x: left + (i * step if len(xs) > 1 else (WIDTH - left) / 2) for i, x in enumerate(xs)}
    body = _y_axis(left, top, plot_h, top_value)
    for i, x in enumerate(xs):
        if len(xs) <= 12 or i % (len(xs) // 10 + 1) == 0 or i == len(xs) - 1:
            # the first and last labels keep inside the chart
            anchor = (
                "start" if i == 0 < len(xs) - 1 else "end" if i == len(xs) - 1 > 0 else "middle"
            )
            body.append(f'<text x="{pos[x]:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">'
                        f"{escape(str(x))}</text>")  # fmt: skip
    for n, (name, points) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        coords = [(pos[x], top + plot_h - (y or 0) / top_value * plot_h, x, y) for x, y in points]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in coords)
        body.append(
            f'<polyline class="mark" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for px, py, x, y in coords:
            body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                        f"<title>{escape(f'{name} · {x}: {_number(y or 0)}')}</title></circle>")  # fmt: skip
        lx, ly = 10 + (n % 2) * (WIDTH // 2), height + 4 + (n // 2) * 18
        body.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{lx + 14}" y="{ly + 9}">{escape(_short(name, 46))}</text>')  # fmt: skip
    return _svg(height + 8 + legend_rows * 18, label, body)

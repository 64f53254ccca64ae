"""Charts as inline SVG, drawn on the server: no script, no external file, so the report opens
offline and under ``default-src 'self'``. Every label is escaped; every chart carries a
<title> and <desc> and the page shows the same numbers in a table beside it.

Written here rather than taken from a library: pygal (the pure-Python SVG option) links its
tooltip script from a CDN by default, and these four shapes are a few lines each."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
COLORS = ("#2f6fb0", "#e08a1e", "#3a9a5b", "#b03a5b", "#7a5bb0", "#5b8a8a")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _svg(title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" class="chart"><title>{_e(title)}</title><desc>{_e(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, label: object, anchor: str = "start", size: int = 12, fill: str = "#333") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{_e(label)}</text>'


def bar_chart(title: str, desc: str, bars: Sequence[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, one per (label, value)."""
    label_width, row = 190, 26
    height = max(1, len(bars)) * row + 10
    top = max((v for _, v in bars), default=0) or 1
    body = []
    for i, (label, value) in enumerate(bars):
        y = 5 + i * row
        length = (WIDTH - label_width - 70) * value / top
        body.append(_text(label_width - 8, y + 16, label, "end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="{COLORS[i % len(COLORS)]}"><title>{_e(label)}: {_e(value)}{_e(unit)}</title></rect>'
        )
        body.append(_text(label_width + length + 6, y + 16, f"{value:g}{unit}"))
    return _svg(title, desc, height, body)


def line_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    low: float = 0,
    high: float = 100,
) -> str:
    """Lines over shared x labels; a None value leaves a gap. Values between ``low`` and ``high``."""
    left, right, top, bottom, height = 44, 34, 30, 30, 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    span = (high - low) or 1

    def x(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / span)

    body = []
    for tick in (low, (low + high) / 2, high):
        body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        body.append(_text(left - 6, y(tick) + 4, f"{tick:g}", "end", 11))
    for i, label in enumerate(labels):
        body.append(_text(x(i), height - 10, label, "middle", 11))
    for n, (name, values) in enumerate(series):
        color = COLORS[n % len(COLORS)]
        body.append(f'<rect x="{left + n * 110}" y="6" width="12" height="12" fill="{color}"/>')
        body.append(_text(left + n * 110 + 16, 16, name, size=11))
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((x(i), y(value)))
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{color}">'
                f"<title>{_e(name)}, {_e(labels[i])}: {_e(value)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                body.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
    return _svg(title, desc, height, body)


def heatmap(
    title: str, desc: str, rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[float | None]]
) -> str:
    """A grid of percentages (0–100): darker is higher; None is an empty cell."""
    label_width, cell_h, head = 90, 24, 24
    cell_w = min(60, (WIDTH - label_width) / max(1, len(columns)))
    height = head + cell_h * max(1, len(rows)) + 4
    body = [_text(label_width + cell_w * (j + 0.5), 16, c, "middle", 11) for j, c in enumerate(columns)]
    for i, row_label in enumerate(rows):
        y = head + i * cell_h
        body.append(_text(label_width - 6, y + 16, row_label, "end", 11))
        for j, value in enumerate(cells[i]):
            if value is None:
                continue
            x = label_width + j * cell_w
            strength = max(0.0, min(1.0, value / 100))
            fill = f"rgb({int(235 - 188 * strength)},{int(242 - 131 * strength)},{int(250 - 74 * strength)})"
            ink = "#fff" if strength > 0.5 else "#222"
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" height="{cell_h - 2}" fill="{fill}">'
                f"<title>{_e(row_label)}, {_e(columns[j])}: {value:g}%</title></rect>"
            )
            body.append(_text(x + (cell_w - 2) / 2, y + 16, f"{value:.0f}", "middle", 11, ink))
    return _svg(title, desc, height, body)


def funnel(title: str, desc: str, stages: Sequence[tuple[str, int]]) -> str:
    """Centred bars narrowing with the deals that reached each stage."""
    row, label_width = 34, 180
    height = max(1, len(stages)) * row + 10
    top = max((n for _, n in stages), default=0) or 1
    room = WIDTH - label_width - 20
    body = []
    for i, (label, reached) in enumerate(stages):
        y = 5 + i * row
        w = max(2.0, room * reached / top)
        x = label_width + (room - w) / 2
        body.append(_text(label_width - 8, y + 20, label, "end"))
        body.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{COLORS[0]}" '
            f'opacity="{1 - 0.1 * min(i, 5):.1f}"><title>{_e(label)}: {reached}</title></rect>'
        )
        body.append(_text(label_width + room / 2, y + 21, reached, "middle", 12, "#fff" if reached else "#333"))
    return _svg(title, desc, height, body)

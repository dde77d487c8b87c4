"""A quick layered layout for graphs too large for `dot`, written straight to SVG.

`dot` lays out a few hundred boxes in a second, but its time grows with the square of the
graph (a 10,000-node chain takes minutes). Past `LARGE` boxes the player draws with this one:
columns by longest path from the inputs (left to right, as dot's rankdir=LR), each column's
boxes ordered by where their inputs are, straight arrows. The SVG has the same ids, classes
and texts as dot's, so the player's script drives either.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from microgradx.engine import Value
from microgradx.recording import Scope
from microgradx.viz.scene import PLAIN, ROUND, Scene, detail, group_name, shown

LARGE = 1500  # boxes: past this many, the player lays out with this module, not dot
CHAR, PAD, ROW = 6.2, 10.0, 20.0  # width of a character at 11 pt, a field's padding, a row
GAP_X, GAP_Y = 40.0, 12.0  # between columns, between boxes in a column
FONT = 'font-family="Helvetica,sans-Serif" font-size="11.00"'


def svg(
    scene: Scene,
    data: Mapping[Value, str],
    grads: Mapping[Value, str],
    params: Mapping[Scope, str],
    fills: Mapping[str, str] | None = None,
) -> str:
    """The scene as an SVG picture: a box per value (name | data | grad), a circle per op, a
    box per group (its fields one above the other), an arrow per edge."""
    fills = fills or {}
    boxes: dict[str, list[str]] = {}  # box id: its fields
    shapes: dict[str, str] = {}  # box id: "record", "group" or "op"
    arrows: list[tuple[str, str, str]] = []  # (from, to, arrow id)
    for node in scene.order:
        if node in scene.group:
            continue
        box = scene.ids[node]
        boxes[box], shapes[box] = [scene.names[node], data[node], grads[node]], "record"
        if node.op is not None:
            op = scene.op_id(node)
            boxes[op], shapes[op] = [str(node.op)], "op"
            arrows += [(scene.box(p), op, edge) for p, edge in scene.input_edges(node)]
            arrows.append((op, box, f"e_{op}_{box}"))
    for group, box in scene.group_ids.items():
        fields = [group_name(group), detail(group, len(scene.members[group]))]
        fields += scene.group_texts(group, data, grads, params)
        boxes[box], shapes[box] = fields, "group"
        arrows += [(arrow.split("_")[1], box, arrow) for arrow in scene.arrows_into(group)]
    boxes = {box: [shown(text) for text in fields] for box, fields in boxes.items()}  # as dot's
    sizes = {box: _size(fields, shapes[box]) for box, fields in boxes.items()}
    column = dict.fromkeys(boxes, 0)
    into: dict[str, list[str]] = {box: [] for box in boxes}
    for source, target, _ in arrows:
        into[target].append(source)
    for box in _in_order(boxes, arrows):  # longest path from the inputs
        column[box] = max((column[s] + 1 for s in into[box]), default=0)
    uses: dict[str, list[str]] = {box: [] for box in boxes}
    for source, target, _ in arrows:
        uses[source].append(target)
    for box in boxes:  # an input in the column before its first use
        if not into[box] and uses[box]:
            column[box] = min(column[t] for t in uses[box]) - 1
    where: dict[str, tuple[float, float]] = {}  # box id: its centre
    x = 0.0
    for c in range(min(column.values(), default=0), max(column.values(), default=0) + 1):
        members = [b for b in boxes if column[b] == c]
        if not members:
            continue
        place = {b: sum(where[s][1] for s in into[b]) / len(into[b]) if into[b] else i
                 for i, b in enumerate(members)}  # fmt: skip
        members.sort(key=lambda b: place[b])  # near their inputs
        width, y = max(sizes[b][0] for b in members), 0.0
        for box in members:
            where[box] = (x + width / 2, y + sizes[box][1] / 2)
            y += sizes[box][1] + GAP_Y
        x += width + GAP_X
    right = max((cx + sizes[b][0] / 2 for b, (cx, _) in where.items()), default=0.0)
    bottom = max((cy + sizes[b][1] / 2 for b, (_, cy) in where.items()), default=0.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{right + 8:.0f}pt" '
        f'height="{bottom + 8:.0f}pt" viewBox="-4 -4 {right + 8:.0f} {bottom + 8:.0f}">',
        '<g id="graph0" class="graph">',
    ]
    for source, target, arrow in arrows:
        out.append(_arrow(arrow, where[source], sizes[source], where[target], sizes[target]))
    for box, fields in boxes.items():
        out.append(_box(box, fields, shapes[box], where[box], sizes[box], fills.get(box, PLAIN)))
    out.append("</g>\n</svg>")
    return "\n".join(out)


def _size(fields: list[str], shape: str) -> tuple[float, float]:
    widths = [len(text) * CHAR + PAD for text in fields]
    if shape == "op":
        side = max(36.0, widths[0]) if len(fields[0]) <= ROUND else widths[0] + 16
        return side, 36.0
    if shape == "group":
        return max(widths), ROW * len(fields)
    return sum(widths), 36.0


def _in_order(boxes: Mapping[str, object], arrows: list[tuple[str, str, str]]) -> list[str]:
    """The boxes, each after the boxes with arrows into it."""
    waiting = dict.fromkeys(boxes, 0)
    out: dict[str, list[str]] = {box: [] for box in boxes}
    for source, target, _ in arrows:
        waiting[target] += 1
        out[source].append(target)
    ready = [box for box, count in waiting.items() if count == 0]
    order = []
    while ready:
        box = ready.pop()
        order.append(box)
        for target in out[box]:
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return order


def _box(
    box: str, fields: list[str], shape: str, centre: tuple[float, float], size: tuple[float, float],
    fill: str,
) -> str:  # fmt: skip
    (cx, cy), (w, h) = centre, size
    left, top = cx - w / 2, cy - h / 2
    parts = [f'<g id="{box}" class="node">']
    if shape == "op":
        parts.append(f'<ellipse fill="{fill}" stroke="black" cx="{cx:.1f}" cy="{cy:.1f}" '
                     f'rx="{w / 2:.1f}" ry="{h / 2:.1f}"/>')  # fmt: skip
        parts.append(_text(fields[0], cx, cy))
        return "".join(parts) + "</g>"
    corners = f"{left:.1f},{top:.1f} {left + w:.1f},{top:.1f} {left + w:.1f},{top + h:.1f} "
    parts.append(
        f'<polygon fill="{fill}" stroke="black" points="{corners}{left:.1f},{top + h:.1f}"/>'
    )
    if shape == "group":  # fields one above the other
        for i, text in enumerate(fields):
            if i:
                y = top + i * ROW
                parts.append(_line(left, y, left + w, y))
            parts.append(_text(text, cx, top + (i + 0.5) * ROW))
    else:  # fields side by side
        x = left
        for i, text in enumerate(fields):
            width = len(text) * CHAR + PAD
            if i:
                parts.append(_line(x, top, x, top + h))
            parts.append(_text(text, x + width / 2, cy))
            x += width
    return "".join(parts) + "</g>"


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<polyline fill="none" stroke="black" points="{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f}"/>'


def _text(text: str, x: float, y: float) -> str:
    escaped = html.escape(text)
    return f'<text text-anchor="middle" x="{x:.1f}" y="{y + 4:.1f}" {FONT}>{escaped}</text>'


def _arrow(
    arrow: str, source: tuple[float, float], source_size: tuple[float, float],
    target: tuple[float, float], target_size: tuple[float, float],
) -> str:  # fmt: skip
    x1, y1 = source[0] + source_size[0] / 2, source[1]
    x2, y2 = target[0] - target_size[0] / 2, target[1]
    head = f"{x2:.1f},{y2:.1f} {x2 - 7:.1f},{y2 - 3.5:.1f} {x2 - 7:.1f},{y2 + 3.5:.1f}"
    return (
        f'<g id="{arrow}" class="edge"><path fill="none" stroke="#666666" '
        f'd="M{x1:.1f},{y1:.1f}L{x2 - 7:.1f},{y2:.1f}"/>'
        f'<polygon fill="#666666" stroke="#666666" points="{head}"/></g>'
    )

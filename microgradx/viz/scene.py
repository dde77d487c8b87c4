"""A graph as a picture: which boxes to draw, their names, and the DOT text that lays them out.

Every Value is a record `name | data | grad`; every op is a small node between its inputs and
its result, showing the op's symbol (or a custom op's name). Reads graphs, never changes them.
"""

from __future__ import annotations

import errno
import html
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import graphviz
import numpy as np

from microgradx.checks import whole_number
from microgradx.engine import Value, topological_order
from microgradx.language import current, say
from microgradx.recording import LAYER, LOSS, NEURON, Scope

COLLAPSE = (None, NEURON, LAYER)  # kinds of scope (nn's Neuron and Layer open them)
PLAIN, CURRENT, RECEIVING = "#ffffff", "#fff3b0", "#dbe9f6"
FIGURE_SPACE = "\u2007"  # as wide as a digit
ROUND = 4  # an op symbol this long or shorter is drawn in a circle (+, tanh), longer in an ellipse
FLAG_COLOURS = {
    "not finite": "#ff9896",
    "exploding": "#ffbb78",
    "vanishing": "#d9d9d9",
    "dead": "#c5b0d5",  # an activation whose derivative is 0 for every example of a batch
    "inactive": "#c5b0d5",  # the same, for the one example drawn: off here, not dead
}
GRAD_COLOUR = "#4a90c9"  # color="grad": the largest gradient; the smallest is nearly white
SIGN_COLOURS = ("#4a90c9", "#e6550d")  # color="sign": a positive gradient, a negative one
CANNOT_START = (errno.ENOSYS, errno.ENOTSUP)  # what starting a program raises in a browser
LONGEST = 100  # characters of one text (a label, a field) that a picture shows; more are cut


class DotNotFound(RuntimeError):
    """Drawing needs Graphviz's `dot` program, which is not installed, or cannot run at all
    (cannot_run: a Python in a browser, such as Pyodide or JupyterLite, starts no programs)."""

    def __init__(self, cannot_run: bool = False) -> None:
        if cannot_run:
            super().__init__(
                "drawing needs the `dot` program from Graphviz, and this Python cannot start "
                "programs (it runs in a browser: Pyodide, JupyterLite). viz.to_dot() works "
                "without it: paste its text into a Graphviz viewer, or draw on a computer with "
                "Graphviz installed."
            )
            return
        super().__init__(
            "drawing needs the `dot` program from Graphviz, which is not installed. Install it "
            "with `sudo apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` "
            "(macOS) or `conda install -c conda-forge graphviz`. viz.to_dot() works without it."
        )


@contextmanager
def running_dot() -> Iterator[None]:
    """Around a run of `dot`: no such program (graphviz's ExecutableNotFound, or ENOENT), or a
    Python that cannot start programs (ENOSYS from Pyodide, ENOTSUP from CPython's own build
    for browsers, which graphviz passes on as a bare OSError), raises DotNotFound."""
    try:
        yield
    except graphviz.ExecutableNotFound:
        raise DotNotFound() from None
    except OSError as error:
        if error.errno not in (errno.ENOENT, *CANNOT_START):
            raise
        raise DotNotFound(cannot_run=error.errno in CANNOT_START) from None


def number(x: Any) -> str:
    """Four significant figures (2.000, 0.5000, -1.500e-07); a batch as its size and mean, or
    the number all its examples share (a weight's row in a weighted sum's local derivatives)."""
    if isinstance(x, np.ndarray):  # the same number for every example: "all" of them
        same = x.size > 1 and bool(np.all(x == x.flat[0]))
        value = float(x.flat[0] if same else np.mean(x)) + 0.0
        if current() == "zh":
            return f"批量 {x.size} 个，{'全为' if same else '均值'} {value:#.4g}"
        return f"batch of {x.size}, {'all' if same else 'mean'} {value:#.4g}"
    return f"{float(x) + 0.0:#.4g}"  # + 0.0 turns -0.0 into 0.0


def shown(text: object, limit: int = LONGEST) -> str:
    """text as every picture shows it (DOT, SVG, the player's HTML, a GIF's captions): one line
    (a line break or a tab becomes a space), printable (a control character or a lone surrogate
    becomes "\ufffd"), at most `limit` characters (a longer text is cut, ending with "…"). A
    label goes through here once, on its way into the scene; DOT's and HTML's escaping come
    after."""

    def visible(c: str) -> str:
        if c.isprintable() or c == FIGURE_SPACE:  # frames pad their texts with figure spaces
            return c
        return " " if c.isspace() else "\ufffd"

    text = re.sub(" +", " ", "".join(visible(c) for c in str(text))).strip(" ")
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ") + "…"


def group_name(scope: Scope) -> str:
    """A group's name as pictures show it (a scope's name is the user's text, as a label is)."""
    return shown(scope.name)


def field_word(field: str) -> str:
    """A box's field name in the language in use (read at draw time): "data", "grad", "out",
    "out.grad" (a collapsed box's output)."""
    chinese = {
        "data": "数据",
        "grad": "梯度",
        "out": "输出",
        "out.grad": "输出梯度",
    }
    return chinese[field] if current() == "zh" else field


def flag_text(flag: str) -> str:
    """A flag as a box shows it after "⚠", in the language in use: "dead relu", "exploding"..."""
    if current() != "zh":
        return flag
    if flag.startswith("dead "):
        return f"死亡的 {flag.removeprefix('dead ')}"
    if flag.startswith("inactive "):
        return f"未激活的 {flag.removeprefix('inactive ')}"
    return {"not finite": "非有限值", "exploding": "梯度爆炸", "vanishing": "梯度消失"}.get(
        flag, flag
    )


_DETAILS = (  # the details nn writes on its scopes, and their Chinese
    (r"(\S+) neuron, (\d+) parameters", "{0} 神经元，{1} 个参数"),
    (r"(\d+) neurons, (\d+) parameters", "{0} 个神经元，{1} 个参数"),
    (r"(\d+) neurons with batch norm, (\d+) parameters", "{0} 个神经元，带批归一化，{1} 个参数"),
    (r"batch norm of (\d+) features, (\d+) parameters", "{0} 个特征的批归一化，{1} 个参数"),
)


def detail(scope: Scope, members: int | None = None) -> str:
    """A group's detail in the language in use: nn's ("relu neuron, 3 parameters") translated,
    a loss's formula as it is; without one, how many nodes it holds (when members is given)."""
    text = shown(scope.detail)
    if not text:
        if members is None:
            return ""
        return say(f"{members} nodes", f"{members} 个节点")
    if current() == "zh":
        for pattern, chinese in _DETAILS:
            found = re.fullmatch(pattern, text)
            if found:
                return chinese.format(*found.groups()).replace("linear 神经元", "线性神经元")
    return text


def font_name(font: str) -> str:
    """A font for dot, with a Chinese one after it in Chinese (dot otherwise leaves the choice
    of a font for the Chinese characters to the system's fallback, which may have none)."""
    if current() != "zh":
        return font
    return f"{font},Noto Sans Mono CJK SC" if "Mono" in font else f"{font},Noto Sans CJK SC"


class Scene:
    """The boxes and arrows of one graph, with a stable id and a name for every node.

    A loss (a scope of kind "loss": every loss in `losses`) is one box showing its formula
    and value, unless expand_loss; collapse="neuron" or "layer" draws each neuron or layer of
    an nn model as one box too. `group` maps each node inside such a box to its scope."""

    def __init__(
        self,
        root: Value,
        collapse: str | None = None,
        max_nodes: int = 500,
        expand_loss: bool = False,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"viz draws the graph behind a Value, got {type(root).__name__}")
        if collapse not in COLLAPSE:
            raise ValueError(f"collapse must be None, 'neuron' or 'layer'; got {collapse!r}")
        if not isinstance(expand_loss, bool):
            raise TypeError(f"expand_loss must be True or False, got {expand_loss!r}")
        whole_number("max_nodes", max_nodes)  # nan would turn the limit off
        self.root, self.order = root, topological_order(root)
        self.ids = {node: f"v{i}" for i, node in enumerate(self.order)}
        self.names = _names(self.order)
        self.group = _groups(self.order, collapse, expand_loss)
        in_order = sorted(set(self.group.values()), key=lambda scope: (scope.number, scope.name))
        self.group_ids = {scope: f"g{i}" for i, scope in enumerate(in_order)}  # model order
        self.outputs = _outputs(self.order, self.group)
        for group, outputs in self.outputs.items():  # a loss's value: named after the loss
            if group.kind == LOSS and len(outputs) == 1 and not outputs[0].label:
                taken, name, i = set(self.names.values()), group_name(group), 1
                while name in taken:  # a second mse: mse#2
                    i += 1
                    name = f"{group_name(group)}#{i}"
                self.names[outputs[0]] = name
        self.members: dict[Scope, list[Value]] = {scope: [] for scope in self.group_ids}
        for node in self.order:
            if node in self.group:
                self.members[self.group[node]].append(node)
        self.drawn = drawn = _boxes(self.order, self.group)  # how many boxes the picture has
        if drawn > max_nodes:
            ways = [
                f"collapse='{kind}' ({boxes} boxes)"
                for kind in (NEURON, LAYER)
                if (boxes := _boxes(self.order, _groups(self.order, kind, expand_loss)))
                < min(drawn, max_nodes + 1)
            ]
            hint = f"draw it with {' or '.join(ways)}; or " if ways else ""
            raise ValueError(
                f"this graph has {drawn} boxes to draw, more than max_nodes={max_nodes}; "
                f"{hint}draw a smaller example (one example, not a batch), or raise max_nodes "
                "(layout gets slow past a few thousand boxes)"
            )

    def parameters(self, scope: Scope) -> list[Value]:
        """A neuron's or a layer's parameters in this graph, in the module's order (its scope
        lists them: weights, then bias; a dropout mask made inside is not one)."""
        return [p for p in scope.parameters if p in self.ids]

    def box_of(self, box: str) -> Value | Scope:
        """The node or group that the box with this id shows."""
        if box.startswith("g"):
            return next(scope for scope, id_ in self.group_ids.items() if id_ == box)
        return self.order[int(box[1:])]

    def arrows_into(self, scope: Scope) -> list[str]:
        """Ids of the arrows from other boxes into a group's box."""
        box = self.group_ids[scope]
        sources = dict.fromkeys(self.box(p) for n in self.members[scope] for p in n.parents)
        return [f"e_{source}_{box}" for source in sources if source != box]

    def op_id(self, node: Value) -> str:
        return "o" + self.ids[node][1:]

    def box(self, node: Value) -> str:
        """The id of the box that shows node: its own, or its group's when collapsed."""
        return self.group_ids[self.group[node]] if node in self.group else self.ids[node]

    def edges_into(self, node: Value) -> list[str]:
        """Ids of the arrows from node's inputs to its op, and from the op to node."""
        if node.op is None or node in self.group:
            return []
        op = self.op_id(node)
        return [edge for _, edge in self.input_edges(node)] + [f"e_{op}_{self.ids[node]}"]

    def input_edges(self, node: Value) -> list[tuple[Value, str]]:
        """(input, arrow id) for each input of node's op, in operand order (x * x: two)."""
        op, seen, edges = self.op_id(node), set(), []
        for i, parent in enumerate(node.parents):
            edge = f"e_{self.box(parent)}_{op}"
            edge = f"{edge}_{i}" if edge in seen else edge
            seen.add(edge)
            edges.append((parent, edge))
        return edges

    def dot(
        self,
        data: Mapping[Value, str] | None = None,
        grads: Mapping[Value, str] | None = None,
        fills: Mapping[str, str] | None = None,
        flags: Mapping[Value, str] | None = None,
        highlight: Collection[Value] = (),
        rankdir: str = "LR",
        local_grads: bool = False,
        sizes: Mapping[str, tuple[float, float]] | None = None,
        font: str = "Helvetica",
        params: Mapping[Scope, str] | None = None,
        legend: str = "",
    ) -> str:
        """DOT text for the scene. data/grads give each node's text (None: no grad field);
        fills maps box ids to colours; sizes fixes box sizes, so that every frame of an
        animation has the same layout; params gives the groups' parameter texts (by default
        their parameters' .grad); legend is DOT lines to add (grad_legend's)."""
        if rankdir not in ("LR", "RL", "TB", "BT"):
            raise ValueError(f"rankdir must be LR, RL, TB or BT; got {rankdir!r}")
        data = (
            data
            if data is not None
            else {n: f"{field_word('data')} {number(n.data)}" for n in self.order}
        )
        fills, flags = fills or {}, flags or {}
        sans = font_name("Helvetica")
        lines = [
            "digraph backprop {",
            f'  graph [rankdir={rankdir}, fontname="{sans}", nodesep=0.25, ranksep=0.35];',
            f'  node [fontname="{font_name(font)}", fontsize=11, penwidth=1.2];',
            f'  edge [fontname="{sans}", fontsize=9, color="#666666", arrowsize=0.6];',
        ]
        lines += [legend] if legend else []  # the graph's label: under the graph

        def attributes(box: str, extra: str) -> str:
            size = ""
            if sizes and box in sizes:
                size = f", fixedsize=true, width={sizes[box][0]:.4f}, height={sizes[box][1]:.4f}"
            return f'id="{box}", fillcolor="{fills.get(box, PLAIN)}"{extra}{size}'

        for node in self.order:
            if node in self.group:
                continue
            box, fields = self.ids[node], [self.names[node], data[node]]
            if grads is not None:
                fields.append(grads[node])
            if node in flags:
                fields.append(f"⚠ {flag_text(flags[node])}")
            border = ', color="#d62728", penwidth=2.5' if node in highlight else ""
            label = "|".join(_record(text) for text in fields)
            extra = f', shape=record, style="rounded,filled", label="{{{label}}}"{border}'
            lines.append(f"  {box} [{attributes(box, extra)}];")
            if node.op is not None:
                op = self.op_id(node)
                shape = "circle" if len(node.op) <= ROUND else "ellipse"  # Σ w·x + b, sigmoid
                extra = f', shape={shape}, style=filled, ordering=in, label="{_quoted(node.op)}"'
                lines.append(f"  {op} [{attributes(op, extra)}];")
                lines.append(f'  {op} -> {box} [id="e_{op}_{box}"];')
                lines.extend(self._input_arrows(node, op, local_grads))
        for group, box in self.group_ids.items():
            members = self.members[group]
            fields = [group_name(group), detail(group, len(members))]
            fields += self.group_texts(group, data, grads, params)
            fields += [f"⚠ {flag_text(flags[n])}" for n in members if n in flags][:1]
            label = "|".join(_record(text) for text in fields)
            label = label if rankdir in ("LR", "RL") else f"{{{label}}}"  # fields one above
            extra = f', shape=record, style="filled,bold", label="{label}"'  # the other
            lines.append(f"  {box} [{attributes(box, extra)}];")
            for arrow in self.arrows_into(group):
                lines.append(f'  {arrow.split("_")[1]} -> {box} [id="{arrow}"];')
        lines += self._in_model_order()
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _in_model_order(self) -> list[str]:
        """The neurons of a layer one below the other in the model's order (top to bottom):
        every box's arrows leave it in the order they are written, which is the model's."""
        return ["  ordering=out;"] if any(g.kind == NEURON for g in self.group_ids) else []

    def group_texts(
        self,
        group: Scope,
        data: Mapping[Value, str],
        grads: Mapping[Value, str] | None,
        params: Mapping[Scope, str] | None = None,
    ) -> list[str]:
        """A group box's changing fields: its output's value and gradient (a neuron, a loss),
        and its parameters' gradients (a neuron, a layer), after the name and the detail."""
        output, texts = self.outputs[group], []
        if len(output) == 1:  # a neuron's or a loss's output (a layer has one per neuron)
            data_word, grad_word = field_word("data"), field_word("grad")
            texts.append(data[output[0]].replace(data_word, field_word("out"), 1))
            if grads is not None:
                texts.append(grads[output[0]].replace(grad_word, field_word("out.grad"), 1))
        if grads is not None and self.parameters(group):
            known = {p: p.grad for p in self.parameters(group)}
            text = params[group] if params is not None else self.parameter_grads(group, known)
            texts.append(text)
        return texts

    def parameter_grads(self, group: Scope, known: Mapping[Value, Any]) -> str:
        """The gradients of a neuron's parameters, "w.grad 0.1000 -0.2000 b.grad 0.3000" ("?"
        for one not known yet); for a layer or a wider neuron, their mean size."""
        found = self.parameters(group)
        if group.kind == NEURON and len(found) <= 5:
            shown = [number(known[p]) if p in known else "?" for p in found]
            weights = " ".join(shown[:-1])
            return say(
                f"w.grad {weights} b.grad {shown[-1]}", f"w 的梯度 {weights}，b 的梯度 {shown[-1]}"
            )
        sizes = [float(np.mean(np.abs(known[p]))) for p in found if p in known]
        mean = number(sum(sizes) / len(sizes)) if sizes else "?"
        return say(
            f"|grad| mean {mean} of {len(found)} parameters",
            f"{len(found)} 个参数的 |梯度| 均值 {mean}",
        )

    def _input_arrows(self, node: Value, op: str, local_grads: bool) -> Iterable[str]:
        locals_ = _local_grads(node) if local_grads else ()
        for i, (parent, edge) in enumerate(self.input_edges(node)):
            label = ""
            if local_grads:
                text = f"∂{self.names[node]}/∂{self.names[parent]} = {number(locals_[i])}"
                label = f', label="{_quoted(text)}"'
            yield f'  {self.box(parent)} -> {op} [id="{edge}"{label}];'


def grad_flags(scene: Scene, signed: bool = False) -> tuple[dict[str, str], dict[Value, str]]:
    """Fill colours for the drawn boxes, and flags for troubled ones. Call it after backward().

    A box's gradient is its node's |grad| (on a batch, the mean of |grad|); a collapsed box is
    judged by the gradient it shows: a neuron's or a loss's out.grad, a layer's parameters'
    mean |grad|.
    Colours go on a log scale from the picture's smallest nonzero gradient to its largest: pale
    to blue. With signed, the colour is grad's sign, blue for positive and orange for negative,
    deeper the larger |grad| on the same kind of scale, white for 0; on a batch it is the mean
    grad's, the number the box shows (a layer: the mean over its outputs). Flags: a gradient that is
    not finite, exploding (> 1e3), vanishing (< 1e-6), or a dead activation (its derivative is
    0 for every example of a batch: a ReLU whose inputs are all negative; also inside a box),
    "inactive" in a graph of one example (off for it, which says little of others). A box shows
    one flag (in that order of precedence), filled with its colour unless signed. Nothing made
    inside a loss is flagged vanishing or dead: its guards (a log term multiplied by 0, a
    hinge's max(0, ·)) stop gradients by design."""
    sizes, means = _box_grads(scene)
    found: dict[str, tuple[Value, str]] = {}  # box -> (node carrying the flag, flag)
    for box, (node, size) in sizes.items():
        if not math.isfinite(size):
            found[box] = (node, "not finite")
    for node in scene.order:  # a dead activation, also inside a box (behind dropout, say)
        box = scene.box(node)
        if box not in found and not _in_loss(node) and _dead(node):
            found[box] = (node, f"{'dead' if np.ndim(node.data) else 'inactive'} {node.op}")
    for box, (node, size) in sizes.items():
        if box in found:
            continue
        if size > 1e3:
            found[box] = (node, "exploding")
        elif size < 1e-6 and not _in_loss(node):
            found[box] = (node, "vanishing")
    shades = means if signed else {box: size for box, (_, size) in sizes.items()}
    scale = _log_scale(shades.values())
    fills: dict[str, str] = {}
    for box, shade in shades.items():
        flag = found[box][1] if box in found else None
        if flag is not None and (not signed or flag == "not finite"):
            fills[box] = FLAG_COLOURS[_kind(flag)]
        else:
            hue = SIGN_COLOURS[shade < 0] if signed else GRAD_COLOUR
            fills[box] = _mix(PLAIN, hue, _depth(abs(shade), scale))
    return fills, {node: flag for node, flag in found.values()}


def digraph(source: str) -> graphviz.Digraph:
    """A graphviz.Digraph holding our DOT text (it shows inline in Jupyter)."""
    graph = _Digraph(name="backprop")
    graph.body[:] = [line + "\n" for line in source.splitlines()[1:-1]]  # without `digraph {`, `}`
    return graph


def run_dot(source: str, format: str) -> bytes:
    """Lay out and render DOT text with the `dot` program."""
    with running_dot():
        result: bytes = graphviz.pipe("dot", format, source.encode())
    return result


class _Digraph(graphviz.Digraph):  # type: ignore[misc]
    """graphviz.Digraph that explains how to install `dot` when it is missing."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with running_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with running_dot():
            return super().render(*args, **kwargs)


# --- helpers ------------------------------------------------------------------------------


def _names(order: list[Value]) -> dict[Value, str]:
    """Each node's name: its label as pictures show it, else a short made-up one (c1 for a
    constant, mul2, tanh1, z1 for a weighted sum), never one a label already takes."""
    names: dict[Value, str] = {}
    counts: dict[str, int] = {}
    shown_labels = {node: shown(node.label) for node in order if node.label}
    labels = set(shown_labels.values())
    for node in order:
        label = shown_labels.get(node, "")
        kind = label or ("c" if node.op is None else node.op.short or node.op.name)
        counts[kind] = counts.get(kind, 0) + 1
        if label:  # a label used twice gets #2, #3, ... so that captions stay clear
            names[node] = kind if counts[kind] == 1 else f"{kind}#{counts[kind]}"
            continue
        while f"{kind}{counts[kind]}" in labels:  # a label "add1" keeps its name
            counts[kind] += 1
        names[node] = f"{kind}{counts[kind]}"
    return names


def _groups(order: list[Value], collapse: str | None, expand_loss: bool) -> dict[Value, Scope]:
    """The box each node is drawn in: its loss (the outermost scope of kind "loss" around it,
    unless expand_loss), else the innermost scope of the collapse kind. Nodes made outside
    every such scope (a model's inputs) are drawn alone."""
    group: dict[Value, Scope] = {}
    for node in order:
        scope, found = node.scope, None
        while scope is not None:
            if scope.kind == LOSS and not expand_loss:
                found = scope  # the outermost loss wins (a loss may call a loss)
            elif scope.kind == collapse and (found is None or found.kind != LOSS):
                found = found or scope
            scope = scope.parent
        if found is not None:
            group[node] = found
    return group


def _boxes(order: list[Value], group: Mapping[Value, Scope]) -> int:
    """How many boxes a picture draws: a box per node outside the groups (and a circle for
    its op), and one per group."""
    alone = sum(1 + (node.op is not None) for node in order if node not in group)
    return alone + len(set(group.values()))


def _outputs(order: list[Value], group: Mapping[Value, Scope]) -> dict[Scope, list[Value]]:
    """Each group's outputs: its nodes made by an op that a node outside the group uses, or the
    root (a neuron's parameters, used by a weight penalty outside it too, are not outputs)."""
    used_outside = {p for n in order for p in n.parents if group.get(p) is not group.get(n)}
    outputs: dict[Scope, list[Value]] = {scope: [] for scope in group.values()}
    for node in order:
        if node in group and node.op is not None and (node in used_outside or node is order[-1]):
            outputs[group[node]].append(node)
    return outputs


def _kind(flag: str) -> str:
    """A flag's kind, its colour and legend entry: "dead relu" is "dead", "exploding" itself."""
    return flag.split()[0] if flag.startswith(("dead ", "inactive ")) else flag


def _dead(node: Value) -> bool:
    """An activation whose local derivative is 0 for every example: no gradient gets through."""
    if node.op is None or node.op.init is None:
        return False
    return bool(np.all(np.asarray(_local_grads(node)[0]) == 0))


def _local_grads(node: Value) -> tuple[Any, ...]:
    """The op table's ∂node/∂input for each input, at the node's data, for pictures; infinite
    where the derivative does not exist (sqrt at 0)."""
    assert node.op is not None
    try:
        with np.errstate(all="ignore"):
            return tuple(node.op.local_grads(*[p.data for p in node.parents], node.data))
    except ArithmeticError:
        return (math.inf,) * len(node.parents)


def _record(text: str) -> str:
    """Escape text for one field of a DOT record label."""
    return re.sub(r'([\\{}|<>"])', r"\\\1", shown(text)).replace("&", "&amp;") or " "


def _quoted(text: str) -> str:
    """Escape text for a quoted DOT string."""
    text = shown(text).replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("&", "&amp;")  # Graphviz reads &lt; and the like as entities


def _mix(a: str, b: str, t: float) -> str:
    rgb = [round(int(a[i : i + 2], 16) * (1 - t) + int(b[i : i + 2], 16) * t) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


# --- the legend of color="grad" and color="sign" -------------------------------------------

FLAG_MEANINGS = {
    "not finite": "not finite (inf or nan)",
    "exploding": "exploding: |grad| > 1e3",
    "vanishing": "vanishing: |grad| < 1e-6",
    "dead": "dead activation: derivative 0 for every example",
    "inactive": "inactive activation: derivative 0 for this example",
}
FLAG_MEANINGS_ZH = {
    "not finite": "非有限值（inf 或 nan）",
    "exploding": "梯度爆炸：|梯度| > 1e3",
    "vanishing": "梯度消失：|梯度| < 1e-6",
    "dead": "死亡的激活：对每个样本导数都为 0",
    "inactive": "未激活：对这个样本导数为 0",
}


def grad_legend(scene: Scene, flags: Mapping[Value, str], signed: bool = False) -> str:
    """DOT lines that put a legend under the graph (the graph's label, so the layout of the
    boxes does not change): the colour scale with its numbers (the picture's smallest and
    largest nonzero |grad|, and two between them, on the log scale grad_flags uses), and the
    flags that occur in this picture, each with its meaning (in its colour unless signed)."""
    sizes, means = _box_grads(scene)
    shades = means if signed else {box: size for box, (_, size) in sizes.items()}
    scale = _log_scale(shades.values())
    rows: list[tuple[str, list[str]]] = []
    if scale is not None:
        low, high = scale
        steps = 3 if high > low else 0
        shown = [10 ** (low + (high - low) * i / steps) for i in range(steps)] + [10**high]
        grad = field_word("grad")
        hues = ((f"{grad} &gt; 0", SIGN_COLOURS[0]), (f"{grad} &lt; 0", SIGN_COLOURS[1]))
        for title, hue in hues if signed else ((f"|{grad}|", GRAD_COLOUR),):
            cells = [
                f'<td border="1" bgcolor="{_mix(PLAIN, hue, _depth(size, scale))}">'
                f"{_html(number(size))}</td>"
                for size in shown
            ]
            rows.append((title, cells))
    if signed and any(shade == 0 for shade in shades.values()):
        rows.append((f"{field_word('grad')} = 0", [f'<td border="1" bgcolor="{PLAIN}">0</td>']))
    kinds = dict.fromkeys(map(_kind, flags.values()))
    width = max((len(cells) for _, cells in rows), default=1)
    for i, kind in enumerate(kind for kind in FLAG_MEANINGS if kind in kinds):
        colour = PLAIN if signed and kind != "not finite" else FLAG_COLOURS[kind]
        meanings = FLAG_MEANINGS_ZH if current() == "zh" else FLAG_MEANINGS
        text = f"⚠ {_html(meanings[kind])}"
        cell = f'<td border="1" bgcolor="{colour}" colspan="{width}" align="left">{text}</td>'
        rows.append((say("flags", "标记") if i == 0 else "", [cell]))
    if not rows:
        return ""
    batch = _batched(scene)
    if current() == "zh" and signed:
        what = "批量上平均梯度" if batch else "梯度"
        title = f"颜色：{what}的正负，绝对值越大颜色越深（对数刻度）"
    elif current() == "zh":
        title = f"颜色：{'批量上 |梯度| 的均值' if batch else '|梯度|'}，对数刻度"
    elif signed:
        what = "the mean grad over the batch" if batch else "grad"
        title = f"colour: the sign of {what}, deeper the larger its size (log scale)"
    else:
        title = f"colour: {'mean |grad| over the batch' if batch else '|grad|'}, log scale"
    lines = [f'<tr><td border="0" align="left" colspan="{width + 1}">{_html(title)}</td></tr>']
    for heading, cells in rows:
        filler = '<td border="0"></td>' * (width - len(cells)) if "colspan" not in cells[0] else ""
        lines.append(f'<tr><td border="0" align="left">{heading}</td>{"".join(cells)}{filler}</tr>')
    table = "".join(lines)
    table = f'<table border="0" cellborder="0" cellspacing="2" cellpadding="3">{table}</table>'
    return f"  label=<{table}>;\n  labelloc=b;\n  labeljust=l;\n  fontsize=10;"


def _box_grads(scene: Scene) -> tuple[dict[str, tuple[Value, float]], dict[str, float]]:
    """For every drawn box that shows a gradient: (the node that stands for it, its mean
    |grad|), and its mean grad (for the sign). A group stands for the gradients it shows: its
    output's (a neuron, a loss: out.grad), else its parameters' (a layer: "|grad| mean"), else
    its outputs'; several nodes by the mean of their sizes (and of their mean grads)."""
    sizes: dict[str, tuple[Value, float]] = {}
    means: dict[str, float] = {}
    with np.errstate(all="ignore"):
        for node in scene.order:
            if node not in scene.group:
                box = scene.ids[node]
                sizes[box], means[box] = (node, _size(node.grad)), float(np.mean(node.grad))
        for group, outputs in scene.outputs.items():
            shown = outputs if len(outputs) == 1 else scene.parameters(group) or outputs
            if shown:
                box = scene.group_ids[group]
                sizes[box] = (shown[0], float(np.mean([_size(n.grad) for n in shown])))
                means[box] = float(np.mean([np.mean(n.grad) for n in shown]))
    return sizes, means


def _size(grad: Any) -> float:
    return float(np.mean(np.abs(grad)))


def _log_scale(shades: Iterable[float]) -> tuple[float, float] | None:
    """log10 of the smallest and the largest |gradient| that is finite and not 0, if any."""
    logs = [math.log10(abs(shade)) for shade in shades if 0 < abs(shade) < math.inf]
    return (min(logs), max(logs)) if logs else None


def _depth(size: float, scale: tuple[float, float] | None) -> float:
    """How much colour a gradient of this size gets: 0.1 (the smallest) to 1 (the largest)."""
    if scale is None or size <= 0:
        return 0.0
    low, high = scale
    place = (math.log10(size) - low) / (high - low) if high > low else 1.0
    return 0.1 + 0.9 * min(max(place, 0.0), 1.0)


def _in_loss(node: Value) -> bool:
    """Whether node was made inside a loss (a scope of kind "loss")."""
    scope = node.scope
    while scope is not None and scope.kind != LOSS:
        scope = scope.parent
    return scope is not None


def _batched(scene: Scene) -> bool:
    return any(isinstance(node.grad, np.ndarray) and node.grad.size > 1 for node in scene.order)


def _html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(shown(text), quote=True)

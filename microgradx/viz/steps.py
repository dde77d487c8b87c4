"""Backpropagation step by step, taken from the engine's own backward walk.

`backprop_steps(root)` records what `backpropagate` does at every node (it passes each edge
to a callback), so the steps can never disagree with `backward()`: there is no second chain
rule here, only captions for the numbers the engine computed. Each caption also writes the
local derivative as the op table does, with the inputs' names:

    w.grad += ∂mul1/∂w × mul1.grad = x × mul1.grad = 2.000 × 0.5010 = 1.002
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from microgradx import errors, ops
from microgradx.engine import Edge, Value, backpropagate
from microgradx.language import current, say
from microgradx.recording import LAYER, LOSS, NEURON, Scope
from microgradx.viz.scene import Scene, detail, group_name, number, shown


@dataclass(frozen=True)
class Step:
    """What happens at one node: "forward" computes its value, "seed" sets the output's
    gradient to 1, "backward" sends the node's gradient (upstream) back to its inputs."""

    kind: str
    node: Value
    upstream: Any
    contributions: tuple[Edge, ...]  # the engine's edges from this node to its inputs
    caption: str


def backprop_steps(
    root: Value,
    include_forward: bool = False,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> list[Step]:
    """Every step of backpropagation from root, with its chain-rule arithmetic in `caption`.
    With include_forward, the steps first compute every value, inputs to output. A loss is
    one step (expand_loss=True: a step per node inside it); collapse="neuron" or "layer"
    makes one step per neuron or layer of an nn model. The walk finishes a neuron before the
    next and goes layer by layer (output to input backward, input to output forward)."""
    return steps_of(Scene(root, collapse, 10**9, expand_loss), include_forward)


def steps_of(scene: Scene, include_forward: bool) -> list[Step]:
    """The steps for a scene (its names, nodes and boxes), from one walk of the engine. A
    batch's output is refused, as backward() refuses it: reduce it to one number first."""
    names, root = scene.names, scene.root
    if isinstance(root.data, np.ndarray):
        raise errors.not_reduced(root, "the steps of backpropagation")
    steps = [forward_step(n, names) for n in walk(scene, forward=True)] if include_forward else []
    steps.append(
        Step(
            "seed",
            root,
            1.0,
            (),
            f"{names[root]}.grad = 1 (∂{names[root]}/∂{names[root]} = 1)"
            + say(": backpropagation starts", "：反向传播开始"),
        )
    )
    walked: list[list[Edge]] = []  # the edges of each node, in the order the engine walks them

    def on_edge(edge: Edge) -> None:
        if not walked or walked[-1][0].node is not edge.node:
            walked.append([])
        walked[-1].append(edge)

    grads = backpropagate(root, on_edge=on_edge, order=walk(scene))
    errors.finite_gradients(root, grads)  # as backward() does
    for edges in walked:
        node, upstream = edges[0].node, edges[0].upstream
        lines = [
            _caption(edge, names, local_rule(node, i, names), rule_in_numbers(node, i))
            for i, edge in enumerate(edges)
        ]
        steps.append(Step("backward", node, upstream, tuple(edges), "\n".join(lines)))
    return _by_box(scene, steps) if scene.group else steps


def walk(scene: Scene, forward: bool = False) -> list[Value]:
    """The nodes in the order a learner can follow. Backward (the engine's walk): root first,
    each node after every node that uses it; forward: each node after its inputs, an input
    just before its first use. Among the nodes whose turn it may be, the next is one in the
    same box as the last (a neuron is finished before the next), else the loss's, else one
    in the last layer not yet done (backward; the first, forward), else the latest made
    (backward; the earliest, forward)."""
    steps = [n for n in scene.order if n.op is not None] or [scene.root]
    place = {n: i for i, n in enumerate(scene.order)}
    waiting = dict.fromkeys(steps, 0)
    after: dict[Value, list[Value]] = {n: [] for n in steps}  # who may go once n is done
    for node in steps:
        for parent in dict.fromkeys(node.parents):
            if parent in waiting:
                first, then = (parent, node) if forward else (node, parent)
                after[first].append(then)
                waiting[then] += 1
    sign = 1 if forward else -1

    def key(node: Value) -> tuple[Any, ...]:
        layer, neuron = _layer_and_neuron(node)
        if layer is None:  # a loss, a penalty: backward at once, forward after the model
            return (forward, 0, 0, sign * place[node])
        return (not forward, sign * layer, neuron, sign * place[node])

    ready: list[tuple[Any, ...]] = []  # (key, node's place) of every node whose turn it may be
    in_box: dict[str, list[tuple[Any, ...]]] = {}  # the same, per box
    done: list[Value] = []

    def free(node: Value) -> None:
        entry = (key(node), place[node])
        heapq.heappush(ready, entry)
        heapq.heappush(in_box.setdefault(scene.box(node), []), entry)

    for node in steps:
        if not waiting[node]:
            free(node)
    taken: set[int] = set()
    while len(done) < len(steps):
        last = in_box.get(scene.box(done[-1]), []) if done else []
        while last and last[0][1] in taken:  # (entries stay in both queues until popped)
            heapq.heappop(last)
        queue = last or ready
        _, i = heapq.heappop(queue)
        if i in taken:
            continue
        taken.add(i)
        node = scene.order[i]
        done.append(node)
        for then in after[node]:
            waiting[then] -= 1
            if not waiting[then]:
                free(then)
    if not forward:
        return done
    with_inputs: list[Value] = []
    for node in done:  # each input just before the first node that uses it
        new = [p for p in dict.fromkeys(node.parents) if p.op is None and p in place]
        with_inputs += sorted(new, key=lambda p: p in scene.group)  # a neuron's own ones last
        for parent in node.parents:
            place.pop(parent, None)
        with_inputs.append(node)
    return with_inputs


def _layer_and_neuron(node: Value) -> tuple[int | None, int]:
    """The numbers of the layer and the neuron a node was made in (-1: none)."""
    layer, neuron, scope = None, -1, node.scope
    while scope is not None:
        if scope.kind == NEURON and neuron == -1:
            neuron = scope.number
        elif scope.kind == LAYER and layer is None:
            layer = scope.number
        scope = scope.parent
    return layer, neuron


def _by_box(scene: Scene, steps: list[Step]) -> list[Step]:
    """One step for each run of steps in the same group's box (a neuron, a layer, a loss),
    its caption saying what happened there; the other steps as they are."""
    runs: list[list[Step]] = []
    for step in steps:
        group = scene.group.get(step.node)
        last = runs[-1][0] if runs else None
        if last and group and last.kind == step.kind and scene.group.get(last.node) is group:
            runs[-1].append(step)
        else:
            runs.append([step])
    merged = []
    for run in runs:
        first, group = run[0], scene.group.get(run[0].node)
        if group is None or first.kind == "seed":
            merged.append(first)
            continue
        edges = tuple(edge for step in run for edge in step.contributions)
        caption = _group_caption(scene, group, run)
        outputs = scene.outputs[group]  # forward, the step is the output's (not a weight's)
        node = outputs[0] if first.kind == "forward" and len(outputs) == 1 else first.node
        merged.append(Step(first.kind, node, first.upstream, edges, caption))
    return merged


SHOWN = 6  # lines of each kind a group's caption shows
KINDS = {"inside it": "其内部：", "its parameters": "它的参数：", "its inputs": "它的输入："}  # zh


def _group_caption(scene: Scene, group: Scope, run: list[Step]) -> str:
    """What happened in a neuron, layer or loss, in its own terms: its output's gradient, then
    what passed inside it, what its parameters received and what its inputs received."""
    about = detail(group)
    head = group_name(group) + (say(f" ({about})", f"（{about}）") if about else "")
    outputs = scene.outputs[group]
    if run[0].kind == "forward" and group.kind == LOSS:  # its value from its inputs
        inputs = dict.fromkeys(p for n in scene.members[group] for p in n.parents
                               if scene.group.get(p) is not group)  # fmt: skip
        given = ", ".join(f"{scene.names[p]} = {number(p.data)}" for p in inputs)
        formula = f" = {shown(group.detail)}" if group.detail else ""
        name = group_name(group)
        return f"{name}{formula} = {number(outputs[0].data)}\n  {say('from', '由')} {given}"
    if run[0].kind == "forward":
        computed = [s.caption for s in run if s.node.op is not None]
        out = say("; out = ", "：out = ") + number(outputs[0].data) if len(outputs) == 1 else ""
        body = "\n".join(_own_names(scene, group, line) for line in _first(computed))
        computes = say(" computes", "计算" if head.endswith("）") else " 计算")
        return f"{head}{computes}{out}\n{body}"
    if group.kind == LOSS:
        return _loss_caption(scene, group, run)
    own = set(scene.parameters(group))  # its weights and biases
    kinds: dict[str, list[str]] = {"inside it": [], "its parameters": [], "its inputs": []}
    for step in run:
        for line, edge in zip(step.caption.split("\n"), step.contributions):
            inside = scene.group.get(edge.parent) is group
            kind = "its parameters" if edge.parent in own else "inside it" if inside else ""
            kinds[kind or "its inputs"].append(line)
    single = outputs == [run[0].node]  # a neuron's out.grad (a layer has one per neuron)
    out = say(": ", "：") + f"out.grad = {number(run[0].upstream)}" if single else ""
    lines = [f"{head}{out}"]
    for kind, found in kinds.items():
        if found:
            lines += [KINDS[kind] if current() == "zh" else f"{kind}:", *_first(found)]
    return "\n".join([lines[0], *(_own_names(scene, group, line) for line in lines[1:])])


def _loss_caption(scene: Scene, group: Scope, run: list[Step]) -> str:
    """A loss crossed in one step: its value, then what each of its inputs receives, ∂loss/∂p
    through all the nodes inside it (expand_loss=True shows them one by one)."""
    (out,) = scene.outputs[group]  # (a loss has one output: its value)
    upstream = run[0].upstream
    received: dict[Value, Any] = {}
    for step in run:
        for edge in step.contributions:
            if scene.group.get(edge.parent) is not group:
                received[edge.parent] = received.get(edge.parent, 0.0) + edge.contribution
    formula = f" = {shown(group.detail)}" if group.detail else ""
    colon, name = say(": ", "："), group_name(group)
    lines = [f"{name}{formula} = {number(out.data)}{colon}out.grad = {number(upstream)}"]
    for parent, total in received.items():
        p, through = scene.names[parent], ""
        if isinstance(upstream, float) and upstream != 0.0:
            through = f" = {number(total / upstream)} × {number(upstream)}"
        lines.append(f"  {p}.grad += ∂{name}/∂{p} × out.grad{through} = {number(total)}")
    inside = sum(len(step.contributions) for step in run) - len(received)
    lines.append(
        say(
            f"  (through {inside} edges inside it: expand_loss=True shows each)",
            f"  （经过其内部的 {inside} 条边：expand_loss=True 逐条显示）",
        )
    )
    return "\n".join(lines)


def _own_names(scene: Scene, group: Scope, text: str) -> str:
    """A neuron's or a layer's names in its own terms, without its name in front (w1, b;
    neurons.0.w1 in a layer); in a neuron, its output is "out" and its weighted sum "z"."""
    if group.kind not in (NEURON, LAYER):
        return text
    members = scene.members[group]
    short = {scene.names[n]: scene.names[n].removeprefix(f"{group_name(group)}.") for n in members}
    sums = [n for n in members if n.op is not None and n.op.short == "z"]
    if group.kind == NEURON and len(sums) == 1:
        short[scene.names[sums[0]]] = "z"
    if group.kind == NEURON and len(scene.outputs[group]) == 1:
        short[scene.names[scene.outputs[group][0]]] = "out"
    for name in sorted(short, key=len, reverse=True):  # layers.0.neurons.1.w1 before its head
        if short[name] != name:
            text = re.sub(rf"(?<![\w#.]){re.escape(name)}(?![\w#])", short[name], text)
    return text


def _first(lines: list[str]) -> list[str]:
    """The first lines (indented), and how many more there are."""
    left = len(lines) - SHOWN
    more = [say(f"  … and {left} more", f"  … 另外还有 {left} 个")] if left > 0 else []
    return [f"  {line}" for line in lines[:SHOWN]] + more


def forward_step(node: Value, names: dict[Value, str]) -> Step:
    """The step that computes node's value from its inputs."""
    name, result = names[node], number(node.data)
    if node.op is None:
        return Step(
            "forward", node, None, (), f"{name} = {result}" + say(" (an input)", "（输入）")
        )
    symbols = [names[p] for p in node.parents]
    numbers = [number(p.data) for p in node.parents]
    formula, arithmetic = node.op.write(*symbols), node.op.write(*numbers)
    return Step("forward", node, None, (), f"{name} = {formula} = {arithmetic} = {result}")


def local_rule(node: Value, i: int, names: Mapping[Value, str]) -> str:
    """The local derivative ∂node/∂(input i) as the op table writes it (the row's
    grad_notation), with the inputs' names: "w" for x in x * w, "1 - tanh(n)²", the weighted
    sum's x1 for its w1; "" when the row does not say."""
    op = node.op
    assert op is not None
    operands = [ops.operand(names[parent]) for parent in node.parents]
    rule = op.grad_notation[i].format(*operands) if i < len(op.grad_notation) else ""
    for name in operands:  # tanh((x + y)) reads tanh(x + y)
        rule = rule.replace(f"({name})", name) if name.startswith("(") else rule
    return rule


def rule_in_numbers(node: Value, i: int) -> str:
    """The local derivative ∂node/∂(input i) as the op table writes it, with the numbers in:
    "1 - 0.7064²" for tanh (its own output in place of tanh(n)), "1 if 0.8814 > 0, else 0"
    for relu; "" on batches, or when it is just one number."""
    op = node.op
    assert op is not None
    rule = op.grad_notation[i] if i < len(op.grad_notation) else ""
    if not rule or any(isinstance(x.data, np.ndarray) for x in (node, *node.parents)):
        return ""
    out = ops.placeholders(op.maths[0].split(" = ")[0], op.arity)  # tanh({0}), σ({0}), e^{0}
    rule = rule.replace(out, "{out}") if out and op.arity == 1 else rule

    def signed(x: Any) -> str:  # a negative number in brackets: 1 - (-0.5000)²
        return f"({number(x)})" if x < 0 else number(x)

    text = rule.format(*map(signed, (p.data for p in node.parents)), out=signed(node.data))
    return "" if text == rule or re.fullmatch(r"\(?-?[\d.e+-]+\)?", text) else text


def _caption(edge: Edge, names: dict[Value, str], rule: str = "", numbers: str = "") -> str:
    """parent.grad += ∂n/∂p × n.grad = rule × n.grad = rule in numbers × n.grad = numbers;
    for a single number that met a batch, the sum over the batch."""
    n, p = names[edge.node], names[edge.parent]
    local, upstream, contribution = edge.local_grad, edge.upstream, edge.contribution
    rule, numbers = _bracketed(rule), _bracketed(numbers)  # (1 - tanh(n)²) × o.grad
    arithmetic = f"{number(local)} × {number(upstream)}"
    if numbers:
        arithmetic = f"{numbers} × {number(upstream)} = {arithmetic}"
    if np.ndim(contribution) == 0 and (np.ndim(local) > 0 or np.ndim(upstream) > 0):
        # a single number met a batch: it gets the sum over the examples
        symbolic = f" = Σ {rule} × {n}.grad" if rule else ""
        over = say("Σ over the batch of", "Σ（对批量求和）")
        text = f"{p}.grad += {over} ∂{n}/∂{p} × {n}.grad{symbolic}"
        text += f" = {arithmetic}" + say(", summed = ", "，求和 = ") + number(contribution)
    else:
        symbolic = f" = {rule} × {n}.grad" if rule else ""
        text = f"{p}.grad += ∂{n}/∂{p} × {n}.grad{symbolic} = {arithmetic} = {number(contribution)}"
    so = say(", so", "，于是")
    return text + (f"{so} {p}.grad = {number(edge.grad_after)}" if edge.accumulated else "")


def _bracketed(rule: str) -> str:
    """A rule with spaces in brackets, so that "× n.grad" multiplies all of it."""
    if re.search(r"\s", rule) and not re.fullmatch(r"\([^()]*\)", rule):
        return f"({rule})"
    return rule

"""Backpropagation step by step, taken from the engine's own backward walk.

`backprop_steps(root)` records what `backpropagate` does at every node (it passes each edge
to a callback), so the steps can never disagree with `backward()`: there is no second chain
rule here, only captions for the numbers the engine computed. Each caption also writes the
local derivative as the op table does, with the inputs' names:

    w.grad += ∂mul1/∂w × mul1.grad = x × mul1.grad = 2.000 × 0.5010 = 1.002
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from microgradx import errors, ops
from microgradx.engine import Edge, Value, backpropagate
from microgradx.viz.scene import Scene, number


@dataclass(frozen=True)
class Step:
    """What happens at one node: "forward" computes its value, "seed" sets the output's
    gradient to 1, "backward" sends the node's gradient (upstream) back to its inputs."""

    kind: str
    node: Value
    upstream: Any
    contributions: tuple[Edge, ...]  # the engine's edges from this node to its inputs
    caption: str


def backprop_steps(root: Value, include_forward: bool = False) -> list[Step]:
    """Every step of backpropagation from root, with its chain-rule arithmetic in `caption`.
    With include_forward, the steps first compute every value in topological order."""
    if isinstance(root.data, np.ndarray):
        raise errors.not_reduced(root, "backprop_steps()")
    return steps_of(Scene(root, max_nodes=10**9), include_forward)


def steps_of(scene: Scene, include_forward: bool) -> list[Step]:
    """The steps for a scene (its names and nodes), from one walk of the engine."""
    names, root = scene.names, scene.root
    steps = [forward_step(node, names) for node in scene.order] if include_forward else []
    steps.append(
        Step(
            "seed",
            root,
            1.0,
            (),
            f"{names[root]}.grad = 1 (∂{names[root]}/∂{names[root]} = 1): backpropagation starts",
        )
    )
    walked: list[list[Edge]] = []  # the edges of each node, in the order the engine walks them

    def on_edge(edge: Edge) -> None:
        if not walked or walked[-1][0].node is not edge.node:
            walked.append([])
        walked[-1].append(edge)

    errors.finite_gradients(root, backpropagate(root, on_edge=on_edge))  # as backward() does
    for edges in walked:
        node, upstream = edges[0].node, edges[0].upstream
        lines = [_caption(edge, names, local_rule(node, i, names)) for i, edge in enumerate(edges)]
        steps.append(Step("backward", node, upstream, tuple(edges), "\n".join(lines)))
    return steps


def forward_step(node: Value, names: dict[Value, str]) -> Step:
    """The step that computes node's value from its inputs."""
    name, result = names[node], number(node.data)
    if node.op is None:
        return Step("forward", node, None, (), f"{name} = {result} (an input)")
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


def _caption(edge: Edge, names: dict[Value, str], rule: str = "") -> str:
    """parent.grad += ∂n/∂p × n.grad = rule × n.grad = numbers; for a single number that
    met a batch, the sum over the batch."""
    n, p = names[edge.node], names[edge.parent]
    local, upstream, contribution = edge.local_grad, edge.upstream, edge.contribution
    if re.search(r"\s", rule) and not re.fullmatch(r"\([^()]*\)", rule):
        rule = f"({rule})"  # (1 - tanh(n)²) × o.grad
    arithmetic = f"{number(local)} × {number(upstream)}"
    if np.ndim(contribution) == 0 and (np.ndim(local) > 0 or np.ndim(upstream) > 0):
        # a single number met a batch: it gets the sum over the examples
        symbolic = f" = Σ {rule} × {n}.grad" if rule else ""
        text = f"{p}.grad += Σ over the batch of ∂{n}/∂{p} × {n}.grad{symbolic}"
        text += f" = {arithmetic}, summed = {number(contribution)}"
    else:
        symbolic = f" = {rule} × {n}.grad" if rule else ""
        text = f"{p}.grad += ∂{n}/∂{p} × {n}.grad{symbolic} = {arithmetic} = {number(contribution)}"
    return text + (f", so {p}.grad = {number(edge.grad_after)}" if edge.accumulated else "")

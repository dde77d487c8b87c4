"""Backpropagation step by step, taken from the engine's own backward walk.

`backprop_steps(root)` records what `backpropagate` does at every node (it passes each edge
to a callback), so the steps can never disagree with `backward()`: there is no second chain
rule here, only captions for the numbers the engine computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microgradx import checks
from microgradx.engine import Value, backpropagate
from microgradx.viz.scene import Scene, number

INFIX = {"add", "sub", "mul", "div", "pow"}


@dataclass(frozen=True)
class Contribution:
    """One edge of a backward step: parent.grad += local_grad × upstream."""

    parent: Value
    local_grad: Any  # ∂node/∂parent
    delta: Any  # local_grad × upstream: what this edge adds to parent.grad
    grad_after: Any  # parent's gradient once it is added
    accumulated: bool  # parent already had a gradient from another path (the += is visible)


@dataclass(frozen=True)
class Step:
    """What happens at one node: "forward" computes its value, "seed" sets the output's
    gradient to 1, "backward" sends the node's gradient (upstream) back to its inputs."""

    kind: str
    node: Value
    upstream: Any
    contributions: tuple[Contribution, ...]
    caption: str


def backprop_steps(root: Value, include_forward: bool = False) -> list[Step]:
    """Every step of backpropagation from root, with its chain-rule arithmetic in `caption`.
    With include_forward, the steps first compute every value in topological order."""
    if isinstance(root.data, np.ndarray):
        raise checks.not_reduced(root, "backprop_steps()")
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
    walked: list[tuple[Value, Any, list[Contribution]]] = []

    def on_edge(
        node: Value, upstream: Any, parent: Value, local: Any, delta: Any, after: Any
    ) -> None:
        if not walked or walked[-1][0] is not node:
            walked.append((node, upstream, []))
        walked[-1][2].append(Contribution(parent, local, delta, after, after is not delta))

    checks.finite_gradients(root, backpropagate(root, on_edge=on_edge))  # as backward() does
    for node, upstream, contributions in walked:
        lines = [_caption(node, upstream, c, names) for c in contributions]
        steps.append(Step("backward", node, upstream, tuple(contributions), "\n".join(lines)))
    return steps


def forward_step(node: Value, names: dict[Value, str]) -> Step:
    """The step that computes node's value from its inputs."""
    name, result = names[node], number(node.data)
    if node.op is None:
        return Step("forward", node, None, (), f"{name} = {result} (an input)")
    symbols = [names[p] for p in node.parents]
    numbers = [number(p.data) for p in node.parents]
    formula, arithmetic = _formula(node, symbols), _formula(node, numbers)
    return Step("forward", node, None, (), f"{name} = {formula} = {arithmetic} = {result}")


def _formula(node: Value, operands: list[str]) -> str:
    op = node.op
    assert op is not None
    wrapped = [f"({x})" if x.startswith("-") else x for x in operands]  # -3.000**2 reads as -9
    if op.name in INFIX:
        return f" {op} ".join(wrapped)
    if op.name == "power":
        return f"{wrapped[0]}{op}"
    if op.name == "neg":
        return f"-{wrapped[0]}"
    if op.name == "leaky_relu":
        return f"leaky_relu({operands[0]}, slope {op.params[0]:g})"
    return f"{op.name if op.name == op else op}({', '.join(operands)})"


def _caption(node: Value, upstream: Any, c: Contribution, names: dict[Value, str]) -> str:
    n, p = names[node], names[c.parent]
    arithmetic = f"{number(c.local_grad)} × {number(upstream)} = {number(c.delta)}"
    text = f"{p}.grad += ∂{n}/∂{p} × {n}.grad = {arithmetic}"
    if np.ndim(c.delta) == 0 and (np.ndim(c.local_grad) > 0 or np.ndim(upstream) > 0):
        # a single number met a batch: it gets the sum over the examples
        summed = f"{number(c.local_grad)} × {number(upstream)}, summed = {number(c.delta)}"
        text = f"{p}.grad += Σ over the batch of ∂{n}/∂{p} × {n}.grad = {summed}"
    return text + (f", so {p}.grad = {number(c.grad_after)}" if c.accumulated else "")

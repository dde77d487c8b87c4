"""Backpropagation step by step, taken from the engine's own backward walk.

`backprop_steps(root)` records what `backpropagate` does at every node (it passes each edge
to a callback), so the steps can never disagree with `backward()`: there is no second chain
rule here, only captions for the numbers the engine computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microgradx import errors
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
        lines = [_caption(edge, names) for edge in edges]
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


def _caption(edge: Edge, names: dict[Value, str]) -> str:
    n, p = names[edge.node], names[edge.parent]
    local, upstream, contribution = edge.local_grad, edge.upstream, edge.contribution
    arithmetic = f"{number(local)} × {number(upstream)} = {number(contribution)}"
    text = f"{p}.grad += ∂{n}/∂{p} × {n}.grad = {arithmetic}"
    if np.ndim(contribution) == 0 and (np.ndim(local) > 0 or np.ndim(upstream) > 0):
        # a single number met a batch: it gets the sum over the examples
        summed = f"{number(local)} × {number(upstream)}, summed = {number(contribution)}"
        text = f"{p}.grad += Σ over the batch of ∂{n}/∂{p} × {n}.grad = {summed}"
    return text + (f", so {p}.grad = {number(edge.grad_after)}" if edge.accumulated else "")

"""Pictures of graphs: the computation graph, and backpropagation step by step.

    viz.to_dot(y)                       # DOT text; needs nothing else
    viz.draw(y)                         # a graphviz.Digraph: shows inline in Jupyter
    viz.backprop_steps(y)               # every step, with its chain-rule arithmetic
    viz.save_html(y, "backprop.html")   # the step-by-step player, one offline HTML file
    viz.player(y)                       # the same player in a notebook cell
    viz.draw(error)                     # a GradcheckError: its graph, offending inputs in red

Rendering (draw, save_html, save_frames, save_gif) needs Graphviz's `dot` program.
"""

from __future__ import annotations

from collections.abc import Collection

import graphviz

from microgradx.engine import Value
from microgradx.testing import GradcheckError
from microgradx.viz.player import Player, player, save_frames, save_gif, save_html
from microgradx.viz.scene import DotNotFound, Scene, digraph, grad_flags, number
from microgradx.viz.steps import Contribution, Step, backprop_steps

__all__ = [
    "Contribution",
    "DotNotFound",
    "Player",
    "Step",
    "backprop_steps",
    "draw",
    "player",
    "save_frames",
    "save_gif",
    "save_html",
    "to_dot",
]


def to_dot(
    root: Value | GradcheckError,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = False,
    highlight: Collection[Value] = (),
    max_nodes: int = 500,
    collapse: str | None = None,
    color: str | None = None,
) -> str:
    """The graph behind root as DOT text: each Value a record (name | data | grad), each op a
    node between its inputs and its result, inputs in operand order.

    show_local_grads writes ∂out/∂input on each arrow; highlight outlines some nodes in red;
    collapse="neuron" or "layer" draws each neuron or layer of an nn model as one box;
    color="grad" fills boxes by |grad| (log scale) and flags gradients that are not finite,
    exploding (> 1e3), vanishing (< 1e-6), and dead ReLUs. root may be a GradcheckError: its
    function is rebuilt at the failing inputs and the inputs whose gradients disagree are
    highlighted.
    """
    if isinstance(root, GradcheckError):
        root, offenders = root.graph()
        highlight = [*highlight, *offenders]
    if color not in (None, "grad"):
        raise ValueError(f"color must be None or 'grad', got {color!r}")
    scene = Scene(root, collapse, max_nodes)
    grads = {node: f"grad {number(node.grad)}" for node in scene.order} if show_grad else None
    fills, flags = grad_flags(scene) if color == "grad" else ({}, {})
    return scene.dot(
        grads=grads,
        fills=fills,
        flags=flags,
        highlight=set(highlight),
        rankdir=rankdir,
        local_grads=show_local_grads,
    )


def draw(root: Value | GradcheckError, **options: object) -> graphviz.Digraph:
    """The graph as a graphviz.Digraph (same options as to_dot): it shows inline in Jupyter,
    and `.render("neuron", format="svg")` writes svg, png or pdf."""
    return digraph(to_dot(root, **options))  # type: ignore[arg-type]

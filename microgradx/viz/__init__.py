"""Pictures of graphs: the computation graph, and backpropagation step by step.

    viz.to_dot(y)                       # DOT text; needs nothing else
    viz.draw(y)                         # a graphviz.Digraph: shows inline in Jupyter
    viz.draw_dot(y)                     # the same, by the lecture's name
    viz.backprop_steps(y)               # every step, with its chain-rule arithmetic
    viz.save_html(y, "backprop.html")   # the step-by-step player, one offline HTML file
    viz.player(y)                       # the same player in a notebook cell
    viz.live(f, x=2.0, w=-3.0)          # live: sliders, forward and backward run again
    viz.save(y, "graph.svg")            # the suffix picks: .dot .svg .png .pdf .html .gif
    viz.draw(error)                     # a GradcheckError: its graph, offending inputs in red

Rendering (draw, save_html, save_frames, save_gif, and save but for .dot) needs Graphviz's
`dot` program.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from microgradx import errors
from microgradx.engine import Edge, Value
from microgradx.files import write_atomically
from microgradx.testing import GradcheckError
from microgradx.viz.player import Player, player, save_frames, save_gif, save_html
from microgradx.viz.scene import (
    DotNotFound,
    Scene,
    digraph,
    field_word,
    grad_flags,
    grad_legend,
    number,
    run_dot,
)
from microgradx.viz.steps import Step, backprop_steps

__all__ = [
    "COLORS",
    "FORMATS",
    "DotNotFound",
    "Edge",
    "Player",
    "Step",
    "backprop_steps",
    "draw",
    "draw_dot",
    "live",
    "player",
    "save",
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
    expand_loss: bool = False,
) -> str:
    """The graph behind root as DOT text: each Value a record (name | data | grad), each op a
    node between its inputs and its result, inputs in operand order.

    show_local_grads writes ∂out/∂input on each arrow; highlight outlines some nodes in red;
    collapse="neuron" or "layer" draws each neuron or layer of an nn model as one box (showing
    its output and its parameters' gradients, coloured by the gradient it shows); a loss is one
    box unless expand_loss. color="grad" fills boxes by |grad| on a log scale, from the
    picture's smallest nonzero gradient (pale) to its largest (blue), and flags gradients that
    are not finite, exploding (> 1e3), vanishing (< 1e-6) and dead activations (derivative 0
    for every example of a batch; "inactive" for the one example of a graph without a batch),
    each in its own colour; color="sign" colours positive gradients blue and negative ones
    orange, deeper the larger |grad| on the same scale, and writes the flags without their
    colours. Either draws a legend under the graph: the scale with its numbers, and the flags
    that occur. root may be a GradcheckError: its function is rebuilt at the failing inputs
    and the inputs whose gradients disagree are highlighted. A root holding a batch never
    reduced has no gradients of its own (its backward() is refused): it is drawn with
    show_grad=False and no color, or while no node holds a gradient (a forward pass), else
    refused.
    """
    if isinstance(root, GradcheckError):
        root, offenders = root.graph()
        highlight = [*highlight, *offenders]
    if color not in COLORS:
        raise ValueError(
            f"color must be None (no colours), 'grad' (by |grad|) or 'sign' (by the sign of "
            f"grad); got {color!r}"
        )
    scene = Scene(root, collapse, max_nodes, expand_loss)
    if (show_grad or color is not None) and _unreduced_with_grads(scene):
        raise ValueError(
            f"{errors.not_reduced(root, 'a picture of gradients')}, or pass show_grad=False "
            "(and no color) to draw the values alone: the gradients in this graph are another "
            "output's, as backward() refuses a batch"
        )
    grad = field_word("grad")
    grads = {node: f"{grad} {number(node.grad)}" for node in scene.order} if show_grad else None
    fills: dict[str, str] = {}
    flags: dict[Value, str] = {}
    legend = ""
    if color is not None:
        fills, flags = grad_flags(scene, signed=color == "sign")
        legend = grad_legend(scene, flags, signed=color == "sign")
    return scene.dot(
        grads=grads,
        fills=fills,
        flags=flags,
        highlight=set(highlight),
        rankdir=rankdir,
        local_grads=show_local_grads,
        legend=legend,
    )


def _unreduced_with_grads(scene: Scene) -> bool:
    """Whether root is a batch never reduced (backward() and the player refuse one) in a graph
    holding gradients: they came from backward() of another output, so a picture of root would
    show them as root's. Without gradients (a forward pass only) root may be drawn."""
    if not isinstance(scene.root.data, np.ndarray):
        return False
    return any(np.any(node.grad != 0) for node in scene.order)


def live(target: Any, example: Any = None, **options: Any) -> Any:
    """The graph live in a notebook (needs anywidget: pip install 'microgradx[widget]'):
    live(f, x=2.0, w=(-3.0, -5, 5)) or live(model, example); see microgradx.viz.widget."""
    from microgradx.viz.widget import live as make  # imported here: anywidget is optional

    return make(target, example, **options)


def draw(root: Value | GradcheckError, **options: object) -> graphviz.Digraph:
    """The graph as a graphviz.Digraph (same options as to_dot): it shows inline in Jupyter,
    and `.render("neuron", format="svg")` writes svg, png or pdf."""
    return digraph(to_dot(root, **options))  # type: ignore[arg-type]


draw_dot = draw  # the lecture's name: draw_dot(root)


def save(root: Value, path: str | os.PathLike[str], **options: Any) -> None:
    """Write root's picture to path, the suffix choosing what: .dot (DOT text), .svg .png .pdf
    (the graph drawn by dot), .html (the step-by-step player), .gif (its steps animated).

    Options go to to_dot, save_html or save_gif. The graph is drawn as it is: call
    root.backward() first for .dot .svg .png .pdf to show gradients (the player computes its
    own). The file is written atomically; on any error nothing is written.
    """
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ValueError(f"viz.save writes {' '.join(FORMATS)} files; got {path.name!r}")
    writer = _WRITERS[path.suffix]
    accepted = [name for name in inspect.signature(writer).parameters if name not in _GIVEN]
    wrong = [name for name in options if name not in accepted]
    if wrong:
        raise TypeError(
            f"viz.save: {path.suffix} files have no option {' or '.join(map(repr, wrong))}; "
            f"their options are {', '.join(accepted)}"
        )
    if path.is_dir():
        raise IsADirectoryError(f"viz.save: {path} is a folder; give a file name inside it")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"viz.save: the folder {path.parent} does not exist")
    if writer is not to_dot:
        writer(root, path, **options)
        return
    source = to_dot(root, **options)
    content = source.encode() if path.suffix == ".dot" else run_dot(source, path.suffix[1:])
    write_atomically(path, lambda temporary: Path(temporary).write_bytes(content))


_WRITERS: dict[str, Callable[..., Any]] = {
    ".dot": to_dot,
    ".svg": to_dot,
    ".png": to_dot,
    ".pdf": to_dot,
    ".html": save_html,
    ".gif": save_gif,
}
COLORS = (None, "grad", "sign")  # what to_dot's color= takes
FORMATS = tuple(_WRITERS)  # the suffixes save() writes: .dot .svg .png .pdf .html .gif
_GIVEN = ("root", "path")  # the parameters save() fills in itself

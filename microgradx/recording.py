"""What the engine records: no_grad() stops it building a graph, enable_grad() starts it
again, and scope() names the part of a computation (a neuron, a layer, a loss) that every node
made inside belongs to. They set this thread's `engine.recording`, which every new node reads.
"""

from __future__ import annotations

import itertools
from contextlib import ContextDecorator
from typing import Any

from microgradx.engine import recording

__all__ = ["LAYER", "LOSS", "MODEL", "NEURON", "Scope", "enable_grad", "no_grad", "scope"]

NEURON, LAYER, MODEL, LOSS = "neuron", "layer", "model", "loss"  # the kinds of scope nn and
# losses open; viz's collapse= takes NEURON or LAYER


class no_grad(ContextDecorator):
    """Inside `with no_grad():` (or a function decorated with `@no_grad()`) this thread builds
    no graph: every result is a plain input node. Other threads keep recording."""

    pause = True

    def __enter__(self) -> None:
        recording.saved.append(recording.now)
        recording.now = (self.pause, recording.now[1])

    def __exit__(self, *exc: object) -> None:  # restore the switch only: scopes are scope()'s
        recording.now = (recording.saved.pop()[0], recording.now[1])


class enable_grad(no_grad):
    """Record a graph again, even inside no_grad() (grad() uses this)."""

    pause = False


class Scope:
    """A named part of a computation: a neuron, a layer, a loss. Every node made while it is
    open points to it (`node.scope`), so pictures group nodes by structure, not by labels.
    `kind` is what it is ("neuron": `collapse="neuron"` draws it as one box); `detail` says
    more for pictures ("relu neuron, 3 parameters"); `parameters` are the module's own
    parameters (pictures show their gradients); scopes made earlier number lower."""

    __slots__ = ("detail", "kind", "name", "number", "parameters", "parent")
    _made = itertools.count()

    def __init__(self, name: str, kind: str = "", parent: Scope | None = None) -> None:
        self.name, self.kind, self.parent, self.detail = name, kind, parent, ""
        self.parameters: tuple[Any, ...] = ()  # a module's own Values, in its order (nn sets)
        self.number = next(Scope._made)

    def __repr__(self) -> str:
        return f"Scope({self.name!r}, kind={self.kind!r})"


class scope:
    """`with scope("loss", kind="loss"):` opens a new Scope inside the current one (or enters
    an existing Scope); every node made inside points to it. Modules and losses use this."""

    def __init__(self, name: str | Scope, kind: str = "") -> None:
        self.name, self.kind = name, kind
        self.outer: list[Scope | None] = []  # the scope around each `with` still open

    def __enter__(self) -> Scope:
        paused, outer = recording.now
        self.outer.append(outer)
        name = self.name
        opened = name if isinstance(name, Scope) else Scope(name, self.kind, outer)
        recording.now = (paused, opened)
        return opened

    def __exit__(self, *exc: object) -> None:  # restore the scope only: the switch is no_grad's
        recording.now = (recording.now[0], self.outer.pop())

"""The `microgradx` command. Thin: it parses arguments and calls the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from microgradx import Value
from microgradx.engine import topological_order


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="microgradx", description="A scalar autograd engine for learning backpropagation."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="backpropagate through one neuron and print every gradient")
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        demo()
    return 0


def demo() -> None:
    """The neuron o = tanh(x1*w1 + x2*w2 + b): forward, backward, and every gradient."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    total = x1w1 + x2w2
    total.label = "x1w1+x2w2"
    n = total + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()

    print("The neuron o = tanh(x1*w1 + x2*w2 + b), after o.backward():\n")
    print(f"  {'node':10} {'op':6} {'data':>9} {'grad = do/d(node)':>18}")
    for node in topological_order(o):
        print(f"  {node.label:10} {node.op or 'input':6} {node.data:9.4f} {node.grad:18.4f}")
    local = 1 - o.data**2
    print("\nRead it as the chain rule: do/dw1 = do/dn * dn/d(x1*w1) * d(x1*w1)/dw1")
    print("                               = (1 - o²) * 1 * x1")
    print(f"                               = {local:.4f} * 1 * {x1.data:.1f} = {w1.grad:.4f}")


if __name__ == "__main__":
    sys.exit(main())

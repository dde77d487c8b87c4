"""Build a graph from a formula such as "tanh(x*w + b)", safely.

The text is parsed with Python's `ast` and only a whitelist is accepted: numbers, variable
names, + - * / **, unary minus, parentheses, and calls to the op names. Nothing is ever
evaluated as Python code: no eval, no exec, no attribute access, no other calls.
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from microgradx import checks, ops
from microgradx.engine import Value
from microgradx.functional import apply

FUNCTIONS: dict[str, Any] = {
    **{row.name: row for row in ops.ROWS if row.notation.startswith(row.name + "(")},
    **ops.CALLS,
}
"""What a formula may call: the rows written as a call (tanh(x)), and families (leaky_relu)."""
OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}  # Python's operators, which Value's methods (made from the op table) answer


class ExpressionError(ValueError):
    """What is wrong with an expression, and where: text[start:end] is the offending part."""

    def __init__(self, message: str, text: str, start: int, end: int) -> None:
        super().__init__(message)
        self.text, self.start, self.end = text, start, max(end, start + 1)

    def pointed(self, width: int = 80) -> str:
        """The message, the expression (the `width` characters around the offending part of
        a longer one), and a caret line under the offending part."""
        left = max(0, min(self.start - width // 4, len(self.text) - width))
        shown = "".join(c if c.isprintable() else " " for c in self.text[left : left + width])
        before = "..." if left > 0 else ""
        after = "..." if left + width < len(self.text) else ""
        end = max(len(self.text), self.start + 1)  # a fault just past the end: one caret there
        carets = min(self.end, left + width, end) - max(self.start, left)
        under = " " * (len(before) + max(self.start - left, 0))
        message = "".join(c if c.isprintable() else " " for c in str(self))  # one line
        return f"{message}\n  {before}{shown}{after}\n  {under}{'^' * max(carets, 1)}"


def build(text: str, values: Mapping[str, float]) -> Value:
    """The graph of `text`, with one input Value (labelled with its name) per variable."""
    text = text.strip()
    try:
        with warnings.catch_warnings():  # "1if x": a SyntaxWarning; a formula has no such thing
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # "\\d" in a string literal
            tree = ast.parse(text, mode="eval")
        inputs = {name: Value(float(v), label=name) for name, v in values.items()}
        result = _build(tree.body, text, inputs)
    except SyntaxError as error:
        start = max((error.offset or 1) - 1, 0)
        raise ExpressionError(
            f"not a formula: {_clip(error.msg)}", text, start, start + 1
        ) from None
    except (RecursionError, MemoryError):  # Python's parser, and _build, recurse
        deep = "the formula is nested too deeply to build; split it into smaller parts"
        raise ExpressionError(deep, text, 0, len(text)) from None
    if not isinstance(result, Value):
        raise ExpressionError("the formula has no variable to differentiate", text, 0, len(text))
    return result


def _build(node: ast.AST, text: str, inputs: Mapping[str, Value]) -> Any:
    number = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
    if isinstance(number, (int, float)) and not isinstance(number, bool):
        if not abs(number) <= sys.float_info.max:
            raise _error("a number too large for a float", node, text)
        return float(number)
    if isinstance(node, ast.Name):
        if node.id not in inputs:
            name = _clip(node.id)
            raise _error(f"{name} has no value: add --at {name}=NUMBER", node, text)
        return inputs[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _build(node.left, text, inputs), _build(node.right, text, inputs)
        if not isinstance(left, Value) and not isinstance(right, Value):  # numbers only
            try:
                return _arithmetic(OPERATORS[type(node.op)], left, right)
            except (ArithmeticError, ValueError, TypeError):
                raise _error("this part is not a finite number", node, text) from None
        return _arithmetic(OPERATORS[type(node.op)], left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, text, inputs)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return _call(node, text, inputs)
    raise _error(f"not allowed in a formula: {_kind(node)}", node, text)


def _arithmetic(combine: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    result = combine(left, right)
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        raise ValueError("not a real, finite number")
    return result


def _call(node: ast.Call, text: str, inputs: Mapping[str, Value]) -> Any:
    """tanh(x): a row of the op table; leaky_relu(x, 0.1): a family of rows, with its constant."""
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    function = FUNCTIONS.get(name)
    if function is None:
        raise _error(f"only these functions can be called: {', '.join(FUNCTIONS)}", node.func, text)
    constants = 0 if isinstance(function, ops.Op) else len(inspect.signature(function).parameters)
    if node.keywords or not 1 <= len(node.args) <= 1 + constants:
        raise _error(f"{name} takes one argument{' and a constant' * constants}", node, text)
    argument = _build(node.args[0], text, inputs)
    numbers = [_build(extra, text, inputs) for extra in node.args[1:]]
    for extra, number in zip(node.args[1:], numbers):
        if isinstance(number, Value):
            raise _error(f"the constant of {name} must be a number", extra, text)
    if not isinstance(function, ops.Op):  # a family: its row from the constants, checked
        function = function(*[checks.finite_number(f"a constant of {name}", n) for n in numbers])
    return apply(function, argument)


def _error(message: str, node: ast.AST, text: str) -> ExpressionError:
    """An error pointing at node; ast counts UTF-8 bytes, the caret counts characters."""
    encoded = text.encode()
    start = len(encoded[: getattr(node, "col_offset", 0)].decode(errors="ignore"))
    end = getattr(node, "end_col_offset", None)
    stop = len(encoded[:end].decode(errors="ignore")) if end is not None else start + 1
    return ExpressionError(message, text, start, stop)


def _clip(text: str, limit: int = 60) -> str:
    """Text quoted in a message, shortened: a formula may hold a name a megabyte long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Lambda: "a lambda",
        ast.Subscript: "indexing",
        ast.Constant: "a constant that is not a number",
        ast.Compare: "a comparison",
        ast.BoolOp: "and/or",
        ast.NamedExpr: "an assignment",
    }
    return kinds.get(type(node), type(node).__name__)

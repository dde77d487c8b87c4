"""Solutions to the exercises of 01_value_and_the_chain_rule.ipynb (练习答案).

Try each exercise yourself first. Each block below is the whole exercise cell with the
answer filled in; the tests swap it in for the cell that checks the same name.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821

# %% 1.1
s = 1 / (1 + math.exp(-(x1 * w1 + x2 * w2 + b)))
answer = s * (1 - s) * x1  # do/dn · dn/d(x1·w1) · d(x1·w1)/dw1

w1v = Value(w1)
(x1 * w1v + x2 * w2 + b).sigmoid().backward()
lessons.check(
    answer,
    expected=w1v.grad,
    name="1.1",
    hint=say("Multiply σ(n)(1 − σ(n)) by x1.", "把 σ(n)(1 − σ(n)) 乘以 x1。"),
)


# %% 1.2
answer = 5.0 + 2 * 2.0  # y (from x·y) + 2x (x·x, x used twice)

x, y = Value(2.0, label="x"), Value(5.0, label="y")
g = x * y + x * x
g.backward()
lessons.check(answer, expected=x.grad, name="1.2")


# %% 1.3
def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


tests = [(cube, 2.0), (lambda t: t * t + t, 3.0), (lambda t: 1 / (1 + t * t), 0.5)]
lessons.check_function(
    central_difference, lambda f, x: grad(f)(x), tests, name="1.3", tolerance=1e-5
)

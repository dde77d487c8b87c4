"""Solutions to the exercises of 04_gradient_checking_with_hypothesis.ipynb (练习答案).

Try each exercise yourself first. Each block below is the whole exercise cell with the
answer filled in; the tests swap it in for the cell that checks the same name.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821


# %% 4.1
def softsign_grad(a):
    return 1 / (1 + abs(a)) ** 2  # the square that broken forgot


points = [-3.0, -0.5, 0.25, 1.0, 4.0]
lessons.check_function(
    softsign_grad,
    lambda a: numerical_grad(lambda t: t / (1 + abs(t)), a)[0],
    points,
    name="4.1",
    tolerance=1e-5,
)


# %% 4.2
def gelu(a):
    return 0.5 * a * (1 + math.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))


def gelu_grad(a):
    c = math.sqrt(2 / math.pi)
    t = math.tanh(c * (a + 0.044715 * a**3))
    # product rule on ½·a·(1 + t), chain rule through t = tanh(u): dt/da = (1 - t²)·du/da
    return 0.5 * (1 + t) + 0.5 * a * (1 - t**2) * c * (1 + 3 * 0.044715 * a**2)


points = [-2.5, -1.0, -0.3, 0.0, 0.4, 1.7, 3.0]
lessons.check_function(
    gelu_grad, lambda a: numerical_grad(gelu, a)[0], points, name="4.2", tolerance=1e-5
)


# %% 4.3
def softsign_second(a):
    return -2 * math.copysign(1.0, a) / (1 + abs(a)) ** 3  # d/da (1 + |a|)^-2


points = [-3.0, -0.7, 0.2, 0.7, 2.5]
lessons.check_function(softsign_second, grad(grad(softsign)), points, name="4.3")

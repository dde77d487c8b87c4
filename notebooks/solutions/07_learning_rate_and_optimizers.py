"""Solutions to the exercises of 07_learning_rate_and_optimizers.ipynb.

Try each exercise in the notebook first. Each block below is the whole exercise cell with the
answer filled in; the tests run the notebook with these cells in place of the exercises.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821


# %% 7.1
def momentum_step(w, v, g, lr=0.1, mu=0.9):
    v = mu * v + g  # the velocity remembers past gradients
    return w - lr * v, v


def library_momentum_step(w, v, g, lr=0.1, mu=0.9):
    weight = Value(w)
    sgd = optim.SGD([weight], lr=lr, momentum=mu)
    sgd.velocity[:] = v  # the velocity so far
    weight.grad = g
    sgd.step()
    return weight.data, sgd.velocity[0]


lessons.check_function(
    momentum_step,
    library_momentum_step,
    inputs=[(1.0, 0.0, 0.5), (1.0, 2.0, -0.5), (-3.0, 0.4, 0.0), (0.2, -1.0, 3.0)],
    name="7.1",
)


# %% 7.2
def adam_first_step(w, g, lr):
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m = (1 - beta1) * g / (1 - beta1)  # bias-corrected: m̂ = g
    s = (1 - beta2) * g**2 / (1 - beta2)  # bias-corrected: ŝ = g²
    return w - lr * m / (np.sqrt(s) + eps)  # a step of size lr, whatever the size of g


def library_adam_first_step(w, g, lr):
    weight = Value(w)
    weight.grad = g
    optim.Adam([weight], lr=lr).step()
    return weight.data


lessons.check_function(
    adam_first_step,
    library_adam_first_step,
    inputs=[(1.0, 0.01, 0.1), (1.0, 1.0, 0.1), (1.0, -1000.0, 0.1), (-2.0, 5.0, 0.03)],
    name="7.2",
)

# %% 7.3
answer = 0.0 + (0.5 - 0.0) * 0.5 * (1 + np.cos(np.pi * 25 / 100))

asked = optim.SGD([Value(0.0)], lr=0.5)
cosine = optim.CosineDecay(asked, steps=100, end=0.0)
for _ in range(25):
    cosine.step()
lessons.check(answer, expected=asked.lr, name="7.3")

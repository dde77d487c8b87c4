"""Solutions to the exercises of 10_loss_and_regression.ipynb.

Try each exercise yourself first. Each block below is a whole exercise cell with the answer
filled in: `# %% 10.1` and so on. The tests swap each block in for the cell that checks the
same name, and expect every check to pass.
"""

# ruff: noqa: F821  (the names come from the notebook's earlier cells)


# %% 10.1
def bce(p, t):
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def library_bce(p, t):
    return losses.binary_cross_entropy(Value(np.asarray(p, dtype=float)), t).item()


cases = np.random.default_rng(3)
lessons.check_function(
    bce,
    library_bce,
    inputs=[
        (np.array([0.9, 0.2]), np.array([1, 0])),
        (cases.uniform(0.05, 0.95, 12), cases.integers(0, 2, 12)),
    ],
    name="10.1",
)

# %% 10.2
predicted_grades = np.array([68.0, 75.0, 52.0, 90.0])
true_grades = np.array([70.0, 80.0, 50.0, 85.0])

answer = np.mean((predicted_grades - true_grades) ** 2)  # (4 + 25 + 4 + 25) / 4

lessons.check(answer, expected=losses.mse(Value(predicted_grades), true_grades), name="10.2")

# %% 10.3
# -ln 0.5 for a student who passed, -ln(1 - 0.5) for one who failed: ln 2 for everyone
answer = np.log(2)

lazy = losses.binary_cross_entropy(Value(np.full(len(passed), 0.5)), passed)
lessons.check(answer, expected=lazy, name="10.3")

# %% 10.4
answer = "regression"  # hours of sleep is a number, not a class: mean squared error

lessons.check(answer, expected=losses.task_of(losses.mse), name="10.4")

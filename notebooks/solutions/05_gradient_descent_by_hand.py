"""Solutions to the exercises of 05_gradient_descent_by_hand.ipynb.

Try each exercise yourself first; look here when you are stuck or to compare. Each block is
the whole exercise cell with the answer filled in (`tests/test_notebooks.py` runs the notebook
with these cells in place and checks every answer).
"""

# ruff: noqa: F821  (the names come from the notebook's earlier cells)


# %% 5.1
def slope(w0):
    w = Value(w0, label="w")
    loss_of_w(w).backward()
    return w.grad


def central_difference(w0, h=1e-5):
    return (loss_of_w(w0 + h) - loss_of_w(w0 - h)) / (2 * h)


lessons.check_function(
    slope, central_difference, inputs=[-1.0, 0.5, 3.0], name="5.1", tolerance=1e-5
)

# %% 5.2
w, b = Value(0.0, label="w"), Value(0.0, label="b")
for _ in range(10):
    loss = loss_of(w, b)
    w.grad = b.grad = 0.0
    loss.backward()
    w.data -= 0.3 * w.grad
    b.data -= 0.3 * b.grad
answer = loss_of(w.data, b.data)  # the loss after 10 steps

line = nn.Neuron(1, activation="linear")
line.load_state_dict({"w1": 0.0, "b": 0.0})
reference = train.search(line, x[:, None], y, losses.mse, "gradient", evaluations=11, lr=0.3)
lessons.check(answer, expected=reference[10], name="5.2")

# %% 5.3
h = 1e-5
answer = (loss_of(0.5, 0.0 + h) - loss_of(0.5, 0.0 - h)) / (2 * h)  # ∂L/∂b at (0.5, 0)

w_at, b_at = Value(0.5), Value(0.0)
loss_of(w_at, b_at).backward()
lessons.check(answer, expected=b_at.grad, name="5.3")

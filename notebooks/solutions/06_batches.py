"""Solutions to the exercises of 06_batches.ipynb.

Try each exercise yourself first; look here when you are stuck or to compare. Each block is
the whole exercise cell with the answer filled in (`tests/test_notebooks.py` runs the notebook
with these cells in place and checks every answer).
"""

# ruff: noqa: F821  (the names come from the notebook's earlier cells)

# %% 6.1
answer = -(-1000 // 64)  # 15 full batches of 64 and a last one of 40: ceil(1000 / 64)

expected = len(list(data.batches(np.zeros((1000, 2)), np.zeros(1000), batch_size=64)))
lessons.check(answer, expected=expected, name="6.1")

# %% 6.2
w, b = Value(START[0], label="w"), Value(START[1], label="b")
for x_batch, y_batch in data.batches(x, y, 16, seed=0):
    step(w, b, x_batch, y_batch, LR)
answer = [w.data, b.data]  # [w, b] after one epoch in batches of 16

reference = nn.Neuron(1, activation="linear")
reference.load_state_dict({"w1": START[0], "b": START[1]})
train.fit(
    reference,
    x[:, None],
    y,
    losses.mse,
    optim.SGD(reference.parameters(), lr=LR),
    epochs=1,
    batch_size=16,
    seed=0,
    progress=False,
)
lessons.check(answer, expected=[reference.w[0].data, reference.b.data], name="6.2")

# %% 6.3
gradients = []
for x_i, y_i in zip(x[:8], y[:8]):
    w_i, b_i = Value(START[0]), Value(START[1])
    ((w_i * x_i + b_i - y_i) ** 2).backward()  # one example: its loss is its squared error
    gradients.append(w_i.grad)
answer = np.mean(gradients)  # the mean of the 8 per-example gradients ∂L/∂w

w_batch, b_batch = Value(START[0]), Value(START[1])
((w_batch * x[:8] + b_batch - y[:8]) ** 2).mean().backward()
lessons.check(answer, expected=w_batch.grad, name="6.3")

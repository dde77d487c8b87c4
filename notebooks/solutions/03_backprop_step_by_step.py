"""Solutions to the exercises of 03_backprop_step_by_step.ipynb (练习答案).

Try each exercise yourself first. Each block below is the whole exercise cell with the
answer filled in; the tests swap it in for the cell that checks the same name.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821

# %% 3.1
s = 1 / (1 + math.exp(-(1.5 * -2.0)))  # σ(a·b)
answer = s * (1 - s) * -2.0 + 1  # σ'(ab)·b (through the product) + 1 (the direct path)

a, b = Value(1.5, label="a"), Value(-2.0, label="b")
g = (a * b).sigmoid() + a
g.backward()
lessons.check(answer, expected=a.grad, name="3.1")


# %% 3.2
activation, answer = 1.0, 1.0  # a_0 = x = 1; the product starts at 1
for layer in shallow.layers:
    w, b = layer.neurons[0].w[0].data, layer.neurons[0].b.data
    s = 1 / (1 + math.exp(-(w * activation + b)))  # the forward pass, by hand
    answer *= s * (1 - s) * w  # the local derivative d a_k / d a_(k-1)
    activation = s

lessons.check(answer, expected=x_in.grad, name="3.2")

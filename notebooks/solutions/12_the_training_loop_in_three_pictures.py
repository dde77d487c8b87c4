"""Solutions to the exercises of 12_the_training_loop_in_three_pictures.ipynb.

Try each exercise yourself first. Each block below is a whole exercise cell with the answer
filled in: `# %% 12.1` and so on. The tests swap each block in for the cell that checks the
same name, and expect every check to pass.
"""

# ruff: noqa: F821  (the names come from the notebook's earlier cells)


# %% 12.1
def sgd_step(old, grad, lr):
    """What the library's SGD does to one parameter."""
    parameter = Value(old)
    parameter.grad = grad
    optim.SGD([parameter], lr=lr).step()
    return parameter.data


def my_update(old, grad, lr):
    return old - lr * grad  # a step against the gradient, lr times its size


lessons.check_function(
    my_update, sgd_step, inputs=[(0.5, 0.2, 0.1), (-1.0, -3.0, 0.01), (2.0, 0.0, 1.0)], name="12.1"
)


# %% 12.2
def count_parameters(sizes):
    # each layer: one weight per input and one bias, for each of its neurons
    return sum((sizes[k] + 1) * sizes[k + 1] for k in range(len(sizes) - 1))


lessons.check_function(
    count_parameters,
    lambda sizes: len(nn.MLP(sizes[0], sizes[1:]).parameters()),
    inputs=[[2, 4, 6, 6, 4, 1], [2, 8, 1], [3, 5, 5, 2]],
    name="12.2",
)

# %% 12.3
fresh = nn.MLP(2, [4, 6, 6, 4, 1], activation="relu", output_activation="sigmoid", seed=0)
fresh.load_state_dict(start)  # the random weights training started from
answer = losses.binary_cross_entropy(fresh(X_train), y_train).item()
lessons.check(answer, expected=loss_per_epoch[0], name="12.3")

# %% 12.4
questions = np.array([[0.1, 0.6], [-0.7, -0.7], [0.3, 0.1], [1.0, 0.0]])
answer = train.predict(nn.load(path), questions).tolist()  # the file alone
lessons.check(answer, expected=train.predict(model, questions).tolist(), name="12.4")

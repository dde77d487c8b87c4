"""Solutions to the exercises of 02_from_a_neuron_to_a_network.ipynb (练习答案).

Try each exercise yourself first. Each block below is the whole exercise cell with the
answer filled in; the tests swap it in for the cell that checks the same name.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821

# %% 2.1
answer = perceptron([2.0, 1.0], [1.0, 3.0, -2.0], sigmoid)[1]  # σ(1 + 6 - 2) = σ(5)

reference = nn.Neuron(2, activation="sigmoid", seed=0)
reference.load_state_dict({"w1": 3.0, "w2": -2.0, "b": 1.0})
lessons.check(answer, expected=reference([2.0, 1.0]).data, name="2.1")


# %% 2.2
def dense(W, b, x):
    return np.maximum(W @ x + b, 0)


def layer_with(W, b, x):
    """The outputs of an nn.Layer holding the weights W and biases b."""
    reference = nn.Layer(W.shape[1], W.shape[0], activation="relu", seed=0)
    weights = {
        f"neurons.{k}.w{i + 1}": W[k, i] for k in range(W.shape[0]) for i in range(W.shape[1])
    }
    reference.load_state_dict(weights | {f"neurons.{k}.b": b[k] for k in range(len(b))})
    return [v.data for v in reference.forward(list(x))]


rng = np.random.default_rng(1)
cases = [
    (rng.normal(size=(k, m)), rng.normal(size=k), rng.normal(size=m)) for k, m in [(3, 2), (4, 3)]
]
lessons.check_function(dense, layer_with, cases, name="2.2")


# %% 2.3
rng = np.random.default_rng(7)
mystery = nn.MLP(2, [3, 3, 1], activation="linear", seed=7)
mystery.load_state_dict({name: rng.normal() for name in mystery.state_dict()})

b_eff = mystery([0.0, 0.0]).data  # at x = 0 only the bias is left
w_eff = [mystery([1.0, 0.0]).data - b_eff, mystery([0.0, 1.0]).data - b_eff]
answer = [*w_eff, b_eff]  # or: multiply the layers' matrices, as in the notebook

probe = np.random.default_rng(2).normal(size=(20, 2))
A = np.column_stack([probe, np.ones(len(probe))])
plane = np.linalg.lstsq(A, mystery(probe).data, rcond=None)[0]  # through 20 outputs
lessons.check(answer, expected=plane, name="2.3")


# %% 2.4
answer = 5 * (3 + 1) + 5 * (5 + 1) + 2 * (5 + 1)  # k neurons × (m inputs + 1 bias)

lessons.check(answer, expected=len(nn.MLP(3, [5, 5, 2]).parameters()), name="2.4")

"""Solutions to the exercises of 11_two_circles_end_to_end.ipynb.

Try each exercise yourself first. Each block below is a whole exercise cell with the answer
filled in: `# %% 11.1` and so on. The tests swap each block in for the cell that checks the
same name, and expect every check to pass.
"""

# ruff: noqa: F821  (the names come from the notebook's earlier cells)

# %% 11.1
probabilities = line(X_test).data
answer = np.mean((probabilities > 0.5) == y_test)  # predicted class 1 where p > 0.5
lessons.check(answer, expected=train.accuracy(line, X_test, y_test), name="11.1")

# %% 11.2
# 2 inputs, one step per hidden neuron, 1 output neuron, 1 for the loss: then the seed
answer = 2 + sum(HIDDEN) + 1 + 1
lessons.check(answer, expected=[step.kind for step in player_steps].index("seed"), name="11.2")


# %% 11.3
def my_forward(X, W1, b1, W2, b2):
    x1, x2 = Value(X[:, 0]), Value(X[:, 1])  # one column of the batch per input
    hidden_out = [weighted_sum(W1[j], [x1, x2], b=b1[j]).relu() for j in range(len(W1))]
    return weighted_sum(W2, hidden_out, b=b2).sigmoid()


lessons.check_function(
    my_forward,
    numpy_forward,
    inputs=[(X_test[:5], W1, b1, W2, b2), (X_fit[:20], -W1, b1, W2, -b2)],
    name="11.3",
)

# %% 11.4
my_hidden = nn.Layer(2, 8, activation="relu", seed=3)
my_output = nn.Layer(8, 1, activation="sigmoid", seed=4)
twin = nn.MLP(2, [8, 1], output_activation="sigmoid", seed=0)  # the same start, for the check
twin.load_state_dict(
    {f"layers.0.{k}": v for k, v in my_hidden.state_dict().items()}
    | {f"layers.1.{k}": v for k, v in my_output.state_dict().items()}
)
twin_history = train.fit(
    twin, X_fit, y_fit, LOSS, optim.SGD(twin.parameters(), lr=0.5), epochs=20, progress=False
)

my_optimizer = optim.SGD(my_hidden.parameters() + my_output.parameters(), lr=0.5)
for _ in range(20):
    my_loss = LOSS(my_output(my_hidden(X_fit)), y_fit)  # forward, then the loss
    my_optimizer.zero_grad()
    my_loss.backward()  # backward
    my_optimizer.step()  # the update
answer = my_loss.item()  # the loss of the 20th step
lessons.check(answer, expected=twin_history.loss[-1], name="11.4")

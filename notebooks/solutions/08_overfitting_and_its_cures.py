"""Solutions to the exercises of 08_overfitting_and_its_cures.ipynb.

Try each exercise in the notebook first. Each block below is the whole exercise cell with the
answer filled in; the tests run the notebook with these cells in place of the exercises.
"""

# The names below come from the notebook's earlier cells.
# ruff: noqa: F821

# %% 8.1
best_loss, best, stop = float("inf"), 0, 0
for epoch, loss in enumerate(history.val_loss, start=1):
    if loss < best_loss:  # a new best epoch
        best_loss, best = loss, epoch
    if epoch - best >= 10:  # 10 epochs without a better validation loss
        stop = epoch
        break
answer = (stop, best)

lessons.check(answer, expected=(history_early.epochs, history_early.best_epoch), name="8.1")


# %% 8.2
def decay_step(w, g, lr, lam):
    return w - lr * (g + lam * w)  # with g = 0: w ← (1 - lr·lam)·w, a decay towards 0


def library_decay_step(w, g, lr, lam):
    weight = Value(w)
    weight.grad = g
    optim.SGD([weight], lr=lr, weight_decay=lam).step()
    return weight.data


lessons.check_function(
    decay_step,
    library_decay_step,
    inputs=[(1.0, 0.0, 0.1, 0.01), (2.0, 0.5, 0.1, 0.1), (-3.0, -1.0, 0.5, 0.2)],
    name="8.2",
)

# %% 8.3
answer = 1 / (1 - 0.25)  # a quarter of the outputs vanish: the rest make up for them

layer = nn.Layer(2, 16, activation="tanh", dropout=0.25, seed=0)
on = np.array([out.data for out in layer.forward(X_train)])
layer.eval()
off = np.array([out.data for out in layer.forward(X_train)])
survived = on != 0
lessons.check(answer, expected=np.mean(on[survived] / off[survived]), name="8.3")

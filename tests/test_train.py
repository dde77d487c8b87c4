"""Training: the experiments the lessons rely on, with seeds fixed, and the loop's behaviour."""

from __future__ import annotations

import itertools
import math
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_callbacks import early

from microgradx import Value, data, losses, nn, optim, train


def circles() -> tuple[Any, Any, Any, Any]:
    X, y = data.make_circles(n_samples=1000, noise=0.05, factor=0.5, seed=0)
    return data.train_test_split(X, y, test_size=0.25, seed=0)


def test_micrograds_demo_reaches_97_percent() -> None:
    """MLP(2, [16, 16, 1]), hinge + 1e-4·L2, SGD with lr 1.0 → 0.1 over 100 steps, 100 moons."""
    X, y = data.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=1337)
    sgd = optim.SGD(model.parameters(), lr=1.0)

    def loss(scores: Value, labels: Any) -> Value:
        return losses.hinge(scores, labels) + 1e-4 * losses.l2(model.parameters())

    train.fit(
        model,
        X,
        y,
        loss,
        sgd,
        epochs=100,
        progress=False,
        schedule=optim.LinearDecay(sgd, 0.1, 100),
    )
    assert train.accuracy(model, X, y) >= 0.97


def test_the_article_network_separates_two_circles_for_most_seeds() -> None:
    X_train, X_test, y_train, y_test = circles()
    accuracies = []
    for seed in range(5):
        model = nn.MLP(
            2, [4, 6, 6, 4, 1], activation="relu", output_activation="sigmoid", seed=seed
        )
        adam = optim.Adam(model.parameters(), lr=0.01)
        train.fit(
            model, X_train, y_train, losses.binary_cross_entropy, adam, epochs=300, progress=False
        )
        accuracies.append(train.accuracy(model, X_test, y_test))
    assert sum(a >= 0.98 for a in accuracies) >= 4, accuracies


def test_adaptive_optimizers_need_fewer_epochs_than_plain_sgd() -> None:
    X, y = data.make_moons(200, noise=0.1, seed=0)

    def epochs_to(make: Any, target: float = 0.3, limit: int = 400) -> int:
        model = nn.MLP(2, [8, 1], activation="tanh", seed=0)
        history = train.fit(
            model,
            X,
            y,
            losses.binary_cross_entropy_with_logits,
            make(model.parameters()),
            epochs=limit,
            progress=False,
        )
        return next((i + 1 for i, loss in enumerate(history.loss) if loss < target), limit + 1)

    plain = epochs_to(lambda ps: optim.SGD(ps, lr=0.05))
    for make in [
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: optim.RMSProp(ps, lr=0.05),
        lambda ps: optim.Adam(ps, lr=0.05),
    ]:
        assert epochs_to(make) < plain


def test_history_and_validation() -> None:
    X_train, X_test, y_train, y_test = circles()
    model = nn.MLP(2, [8, 1], output_activation="sigmoid", seed=0)
    history = train.fit(
        model,
        X_train,
        y_train,
        losses.binary_cross_entropy,
        optim.Adam(model, lr=0.05),
        epochs=30,
        validation=(X_test, y_test),
        progress=False,
    )
    assert (
        history.epochs
        == len(history.accuracy)
        == len(history.val_loss)
        == len(history.val_accuracy)
        == 30
    )
    assert history.loss[-1] < history.loss[0] and 1 <= history.best_epoch <= 30
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
    assert not model.training  # fit leaves the model in eval mode
    loss, accuracy = train.evaluate(model, X_test, y_test, losses.binary_cross_entropy)
    assert loss == pytest.approx(history.val_loss[-1]) and accuracy == history.val_accuracy[-1]
    assert "30 epochs" in repr(history)


def over_fit(patience: int, progress: bool) -> tuple[nn.MLP, train.History, Any]:
    """A network big enough to over-fit 60 noisy points, stopped early on validation data."""
    X, y = data.make_moons(60, noise=0.3, seed=0)
    validation = data.make_moons(200, noise=0.3, seed=1)
    model = nn.MLP(2, [32, 32, 1], seed=0)
    loss = losses.binary_cross_entropy_with_logits
    history = train.fit(
        model,
        X,
        y,
        loss,
        optim.Adam(model, lr=0.05),
        epochs=500,
        validation=validation,
        early_stopping=patience,
        progress=progress,
    )
    return model, history, validation


def test_early_stopping_restores_the_best_weights() -> None:
    model, history, (X_val, y_val) = over_fit(patience=10, progress=False)
    assert history.stopped_early and history.epochs == history.best_epoch + 10
    best = history.val_loss[history.best_epoch - 1]
    assert train.evaluate(model, X_val, y_val, losses.binary_cross_entropy_with_logits)[
        0
    ] == pytest.approx(best)


def test_mini_batches_and_sgd_run_and_are_reproducible() -> None:
    X, y = data.make_moons(64, noise=0.1, seed=0)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [8, 1], seed=0)
        train.fit(
            model,
            X,
            y,
            losses.binary_cross_entropy_with_logits,
            optim.SGD(model, lr=0.05),
            epochs=3,
            batch_size=16,
            progress=False,
            seed=7,
        )
        runs.append(model.state_dict())
    assert runs[0] == runs[1]
    model = nn.MLP(2, [8, 1], seed=0)
    history = train.fit(
        model,
        X,
        y,
        losses.binary_cross_entropy_with_logits,
        optim.SGD(model, lr=0.01),
        epochs=2,
        batch_size=1,
        progress=False,
        seed=0,
    )
    assert history.epochs == 2


def test_multi_class_through_cross_entropy() -> None:
    X, y = data.make_spiral(300, n_classes=3, noise=0.02, seed=0)
    model = nn.MLP(2, [16, 16, 3], seed=0)
    history = train.fit(
        model, X, y, losses.cross_entropy, optim.Adam(model, lr=0.02), epochs=200, progress=False
    )
    assert history.accuracy[-1] >= 0.9 and train.accuracy(model, X, y) >= 0.9
    assert set(train.predict(model, X)) == {0, 1, 2}


def test_regression_has_no_accuracy() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 1))
    y = 3 * X[:, 0] + 0.5
    model = nn.MLP(1, [1])
    history = train.fit(
        model, X, y, losses.mse, optim.SGD(model, lr=0.3), epochs=100, progress=False
    )
    assert history.accuracy[-1] is None and history.loss[-1] < 1e-3


def test_a_diverging_loss_names_the_epoch_and_suggests_a_smaller_learning_rate() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 1))
    model = nn.MLP(1, [1])
    hint_first = r"^try a smaller learning rate \(now lr=1e\+06\): training diverged at epoch \d+"
    with pytest.raises(train.Diverged, match=hint_first):
        train.fit(
            model, X, 100 * X[:, 0], losses.mse, optim.SGD(model, lr=1e6), epochs=50, progress=False
        )


def test_divergence_deep_in_the_graph_leads_with_the_learning_rate_and_shows_no_array() -> None:
    X, y = data.make_moons(200, noise=0.1, seed=0)  # squared error overflows in a batched power
    model = nn.MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(train.Diverged) as caught:
        train.fit(model, X, y, losses.mse, optim.SGD(model, lr=1e3), epochs=50, progress=False)
    message, engine = str(caught.value), str(caught.value.__cause__)
    assert "array(" in engine and "\n" in engine  # what the engine said, batch and all
    assert message.startswith("try a smaller learning rate (now lr=1000): training diverged at ")
    assert "array(" not in message and "\n" not in message and len(message) < 400
    assert "gave inf for the output of power = [7.7265e+307, ...]: too large" in message


@settings(max_examples=30, deadline=None)
@given(
    lr=st.floats(1.0, 1e12),
    scale=st.floats(1e-3, 1e6),
    batch_size=st.one_of(st.none(), st.integers(1, 40)),
    loss=st.sampled_from([losses.mse, losses.hinge, losses.binary_cross_entropy_with_logits]),
)
def test_every_divergence_leads_with_the_learning_rate_on_one_short_line(
    lr: float, scale: float, batch_size: int | None, loss: Any
) -> None:
    X, y = data.make_moons(40, noise=0.1, seed=0)
    y = y * scale if loss is losses.mse else y  # targets on the scale of the inputs
    model = nn.MLP(2, [4, 1], seed=0)
    try:  # (about 60% of these runs diverge)
        train.fit(
            model, X * scale, y, loss, optim.SGD(model, lr=lr), epochs=20,
            batch_size=batch_size, progress=False,
        )  # fmt: skip
    except train.Diverged as error:
        message = str(error)
        assert message.startswith(f"try a smaller learning rate (now lr={lr:g}): ")
        assert "array(" not in message and "\n" not in message and len(message) < 500


def test_progress_plain_lines_off_a_terminal_and_a_bar_on_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = data.make_moons(40, seed=0)

    def fit(progress: bool) -> None:
        model = nn.MLP(2, [4, 1], seed=0)
        train.fit(
            model,
            X,
            y,
            losses.binary_cross_entropy_with_logits,
            optim.Adam(model, lr=0.01),
            epochs=20,
            progress=progress,
        )

    fit(progress=True)
    out = capsys.readouterr().out
    assert "epoch  1/20  loss" in out and "epoch 20/20" in out and "accuracy" in out
    fit(progress=False)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    fit(progress=True)
    err = capsys.readouterr().err
    assert "20/20" in err and "loss=" in err


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        ({"X": np.ones(5)}, "2-D array"),
        ({"y": np.ones(3)}, "one label per example"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"early_stopping": -1}, "early_stopping"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, Any], complaint: str) -> None:
    X, y = data.make_moons(10, seed=0)
    model = nn.MLP(2, [2, 1])
    call = {
        "model": model,
        "X": X,
        "y": y,
        "loss": losses.mse,
        "optimizer": optim.SGD(model, lr=0.1),
        "epochs": 1,
        "progress": False,
        **arguments,
    }
    with pytest.raises(ValueError, match=complaint):
        train.fit(**call)


def test_early_stopping_on_the_training_loss_keeps_the_weights_it_measured() -> None:
    model, history = early(callbacks=[])  # (the moons, a learning rate too large: it stops)
    X, y = data.make_moons(60, noise=0.3, seed=0)
    kept = train.evaluate(model, X, y, losses.binary_cross_entropy_with_logits)[0]
    assert history.best_epoch is not None and history.best_epoch < history.epochs
    assert kept == pytest.approx(history.loss[history.best_epoch])  # loss measured after that epoch
    assert kept <= min(history.loss[1:]) + 1e-12


def test_divergence_with_cross_entropy_losses_is_reported_as_such() -> None:
    X, y = data.make_circles(100, noise=0.05, factor=0.5, seed=0)
    model = nn.MLP(2, [8, 8, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(train.Diverged, match="smaller learning rate"):
        train.fit(
            model,
            X * 1e3,
            y,
            losses.binary_cross_entropy,
            optim.SGD(model, lr=1e300),
            epochs=20,
            progress=False,
        )
    assert not model.training  # left in eval mode, even after an error


def test_data_that_is_not_finite_is_named() -> None:
    X, y = data.make_moons(10, seed=0)
    X[3, 1] = np.nan
    model = nn.MLP(2, [2, 1])
    with pytest.raises(ValueError, match="not finite at example 3"):
        train.fit(model, X, y, losses.mse, optim.SGD(model, lr=0.1), epochs=1, progress=False)
    with pytest.raises(ValueError, match="pair"):
        train.fit(
            model,
            X[:3] * 0,
            y[:3],
            losses.mse,
            optim.SGD(model, lr=0.1),
            epochs=1,
            progress=False,
            validation=(X,),
        )  # type: ignore[arg-type]


def test_integer_targets_with_mse_are_regression_and_numpy_counts_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = np.round(3 * X[:, 0])
    model = nn.MLP(1, [1])
    history = train.fit(
        model, X, y, losses.mse, optim.SGD(model, lr=0.1), epochs=np.int64(3), progress=True
    )
    assert history.accuracy == [None, None, None]
    assert "epoch 3/3" in capsys.readouterr().out


def test_plain_progress_shows_an_early_stop(capsys: pytest.CaptureFixture[str]) -> None:
    _, history, _ = over_fit(patience=5, progress=True)
    out = capsys.readouterr().out
    assert history.stopped_early and f"epoch {history.epochs:>3}/500" in out
    assert f"stopped early after epoch {history.epochs}; kept epoch {history.best_epoch}" in out


# --- which task: declared by the loss, or given as task= -----------------------------------

small_ints = st.integers(-3, 3)


def mean_absolute_error(prediction: Value, target: Any) -> Value:
    """A regression loss of the user's own: it declares no task."""
    return abs(prediction - np.asarray(target, dtype=float)).mean()


def squared_error(prediction: Value, target: Any) -> Value:
    """Another loss of the user's own (any loss would do: accuracy comes from the outputs)."""
    return losses.mse(prediction, target)


def one_step(model: nn.Module, X: Any, y: Any, loss: Any, **options: Any) -> train.History:
    """One full-batch epoch with a learning rate of 0: the model is the same before and after."""
    return train.fit(
        model, X, y, loss, optim.SGD(model, lr=0.0), epochs=1, progress=False, **options
    )


def test_a_regression_loss_of_your_own_over_whole_number_targets_gets_no_accuracy() -> None:
    X = np.linspace(-1, 1, 21).reshape(-1, 1)
    y = np.round(3 * X[:, 0])  # whole numbers, but a regression target
    model = nn.MLP(1, [1], seed=0)
    history = train.fit(
        model, X, y, mean_absolute_error, optim.SGD(model, lr=0.1), epochs=5, progress=False
    )
    assert history.accuracy == [None] * 5 and history.loss[-1] < history.loss[0]
    assert train.evaluate(model, X, y, mean_absolute_error)[1] is None
    assert "accuracy" not in repr(history)


@given(
    weights=st.lists(small_ints, min_size=3, max_size=3),
    points=st.lists(st.tuples(small_ints, small_ints), min_size=1, max_size=30),
    activation=st.sampled_from(["linear", "sigmoid", "tanh"]),
    signs=st.booleans(),
    draw=st.data(),
)
def test_task_classification_gives_a_loss_of_your_own_an_accuracy_numpy_agrees_with(
    weights: list[int], points: list[tuple[int, int]], activation: str, signs: bool, draw: Any
) -> None:
    X = np.array(points, dtype=float)
    y = np.array(
        draw.draw(
            st.lists(
                st.sampled_from([-1, 1] if signs else [0, 1]), min_size=len(X), max_size=len(X)
            )
        )
    )
    w1, w2, b = weights
    neuron = nn.Neuron(2, activation=activation)
    neuron.load_state_dict({"w1": w1, "w2": w2, "b": b})
    # the oracle: whole-number weights and inputs, so the sign of w·x + b is exact
    expected = np.mean((X @ [w1, w2] + b > 0) == (y > 0))
    assert one_step(neuron, X, y, squared_error).accuracy == [None]  # no task: no accuracy
    history = one_step(neuron, X, y, squared_error, task="classification", validation=(X, y))
    assert history.accuracy == history.val_accuracy == [pytest.approx(expected)]
    assert train.evaluate(neuron, X, y, squared_error, task="classification")[1] == pytest.approx(
        expected
    )
    assert train.accuracy(neuron, X, y) == pytest.approx(expected)


def test_task_regression_turns_accuracy_off_for_a_classification_loss() -> None:
    X, y = data.make_moons(20, seed=0)
    model = nn.MLP(2, [1], seed=0)
    loss = losses.binary_cross_entropy_with_logits
    assert one_step(model, X, y, loss).accuracy[0] is not None
    assert one_step(model, X, y, loss, task="regression").accuracy == [None]
    assert train.evaluate(model, X, y, loss, task="regression")[1] is None


@given(st.one_of(st.text(), st.integers(), st.floats()).filter(lambda t: t not in losses.TASKS))
def test_an_unknown_task_is_refused_with_the_choices(task: Any) -> None:
    X, y = data.make_moons(6, seed=0)
    model = nn.MLP(2, [1], seed=0)
    choices = "task must be one of classification, regression"
    with pytest.raises(ValueError, match=choices):
        one_step(model, X, y, losses.hinge, task=task)
    with pytest.raises(ValueError, match=choices):
        train.evaluate(model, X, y, losses.hinge, task=task)


@given(
    labels=st.lists(st.integers(0, 3), min_size=2, max_size=12),
    fraction=st.floats(0.01, 0.99),
    draw=st.data(),
)
def test_classification_refuses_labels_that_are_not_whole_numbers(
    labels: list[int], fraction: float, draw: Any
) -> None:
    where = draw.draw(st.integers(0, len(labels) - 1))
    y = np.array(labels, dtype=float)
    y[where] += fraction
    X = np.zeros((len(y), 2))
    model = nn.MLP(2, [1], seed=0)
    for what, attempt in [
        ("X, y", lambda: one_step(model, X, y, squared_error, task="classification")),
        (  # refused before training starts, not after the first epoch
            "validation",
            lambda: one_step(
                model, X, np.round(y), losses.mse, task="classification", validation=(X, y)
            ),
        ),
        ("y", lambda: train.evaluate(model, X, y, squared_error, task="classification")),
        ("y", lambda: train.accuracy(model, X, y)),
    ]:
        names = rf"^{what}: .*example {where} has label {y[where]:g}.*task='regression'"
        with pytest.raises(ValueError, match=names):
            attempt()


def test_soft_labels_for_binary_cross_entropy_need_task_regression() -> None:
    X, y = data.make_moons(10, seed=0)
    soft = np.where(y == 1, 0.9, 0.1)
    model = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
    with pytest.raises(ValueError, match="whole-number class labels"):
        one_step(model, X, soft, losses.binary_cross_entropy)
    assert one_step(model, X, soft, losses.binary_cross_entropy, task="regression").accuracy == [
        None
    ]


# --- the decision threshold, shared by predict and plot -------------------------------------


AT_ZERO = {"sigmoid": 0.5, "softplus": math.log(2.0)}  # every other activation is 0 at 0


@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
def test_the_decision_threshold_is_the_output_activation_at_zero(activation: str) -> None:
    expected = AT_ZERO.get(activation, 0.0)
    assert train.decision_threshold(nn.Neuron(2, activation=activation)) == expected
    assert train.decision_threshold(nn.Layer(2, 1, activation=activation)) == expected
    mlp = nn.MLP(2, [3, 1], activation="sigmoid", output_activation=activation)
    assert train.decision_threshold(mlp) == expected  # the output's activation, not the hidden


@given(
    weights=st.lists(small_ints, min_size=3, max_size=3),
    points=st.lists(st.tuples(small_ints, small_ints), min_size=1, max_size=20),
)
def test_a_sigmoid_output_and_its_raw_score_predict_the_same_classes(
    weights: list[int], points: list[tuple[int, int]]
) -> None:
    """Every activation rises with z, so act(z) > act(0) exactly when z > 0: whatever the
    output activation, the class is 1 where the raw score is positive."""
    X = np.array(points, dtype=float)
    w1, w2, b = weights
    expected = (X @ [w1, w2] + b > 0).astype(int)
    for activation in nn.ACTIVATIONS:
        neuron = nn.Neuron(2, activation=activation)
        neuron.load_state_dict({"w1": w1, "w2": w2, "b": b})
        assert np.array_equal(train.predict(neuron, X), expected), activation


def test_evaluating_is_eval_mode_for_a_block_even_when_it_fails() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    for was_training in [True, False]:
        model.train(was_training)
        with pytest.raises(RuntimeError), train.evaluating(model) as inside:
            assert inside is model and not model.training
            raise RuntimeError
        assert model.training is was_training


# --- search strategies: random, random local, gradient descent on one budget ----------------


def line(seed: int = 0, n: int = 30) -> tuple[Any, Any]:
    """Two-parameter linear regression: y = 3x + 0.5 plus a little noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, 3 * X[:, 0] + 0.5 + rng.normal(0, 0.1, n)


class Counting:
    """A loss that counts how often it is evaluated (the budget the strategies share)."""

    def __init__(self, loss: Any) -> None:
        self.loss, self.calls = loss, 0

    def __call__(self, prediction: Any, target: Any) -> Value:
        self.calls += 1
        return self.loss(prediction, target)  # type: ignore[no-any-return]


@given(
    strategy=st.sampled_from(train.STRATEGIES),
    evaluations=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_strategy_spends_exactly_its_budget_and_keeps_its_best(
    strategy: str, evaluations: int, seed: int
) -> None:
    X, y = line()
    model = nn.MLP(1, [3, 1], activation="tanh", seed=0)
    counting = Counting(losses.mse)
    curve = train.search(
        model, X, y, counting, strategy, evaluations=evaluations, seed=seed, lr=0.05
    )
    assert counting.calls == len(curve) == evaluations
    assert all(later <= earlier for earlier, later in itertools.pairwise(curve))  # best so far
    # the model is left at the best weights found: their loss is the curve's last point
    assert train.evaluate(model, X, y, losses.mse)[0] == pytest.approx(curve[-1], rel=1e-12)


@given(strategy=st.sampled_from(train.STRATEGIES), seed=st.integers(0, 2**32 - 1))
def test_a_search_is_the_same_for_the_same_seed(strategy: str, seed: int) -> None:
    X, y = line()
    runs = []
    for _ in range(2):
        model = nn.Neuron(1, activation="linear", seed=0)
        curve = train.search(model, X, y, losses.mse, strategy, evaluations=15, seed=seed)
        runs.append((curve, model.state_dict()))
    assert runs[0] == runs[1]


def test_random_search_ignores_the_starting_weights_and_the_others_start_from_them() -> None:
    X, y = line()
    curves = {}
    for start in (0, 1):
        for strategy in train.STRATEGIES:
            model = nn.Neuron(1, activation="linear", seed=start)
            first_loss = train.evaluate(model, X, y, losses.mse)[0]
            curve = train.search(model, X, y, losses.mse, strategy, evaluations=10, seed=3)
            curves[start, strategy] = curve
            if strategy != "random":
                assert curve[0] == pytest.approx(first_loss, rel=1e-12)
    assert curves[0, "random"] == curves[1, "random"]
    assert curves[0, "gradient"] != curves[1, "gradient"]


@pytest.mark.parametrize("seed", range(5))
def test_gradient_descent_beats_random_search_on_a_line(seed: int) -> None:
    X, y = line(seed)
    start = nn.Neuron(1, activation="linear", seed=seed).state_dict()
    best = {}
    for strategy in train.STRATEGIES:
        model = nn.Neuron(1, activation="linear")
        model.load_state_dict(start)
        best[strategy] = train.search(
            model, X, y, losses.mse, strategy, evaluations=60, seed=seed, lr=0.5
        )[-1]
    # the oracle: least squares, solved by NumPy
    A = np.column_stack([X[:, 0], np.ones(len(X))])
    least = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    assert best["gradient"] < best["random"] and best["gradient"] < best["local"]
    assert best["gradient"] == pytest.approx(least, rel=1e-3)


def test_search_refuses_what_it_cannot_do() -> None:
    X, y = line()
    model = nn.Neuron(1, activation="linear", seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="strategy must be one of random, local, gradient"):
        train.search(model, X, y, losses.mse, "annealing")
    with pytest.raises(ValueError, match="evaluations must be a whole number"):
        train.search(model, X, y, losses.mse, evaluations=0)
    assert model.state_dict() == before
    start = train.evaluate(model, X * 1e3, y, losses.mse)[0]
    hint_first = r"^try a smaller learning rate \(now lr=1000\): gradient descent diverged at"
    with pytest.raises(train.Diverged, match=hint_first + r" loss evaluation \d+.*best"):
        train.search(model, X * 1e3, y, losses.mse, "gradient", evaluations=50, lr=1e3)
    kept = train.evaluate(model, X * 1e3, y, losses.mse)[0]  # the best found: the start
    assert model.state_dict() == before and kept == start


def test_weights_that_make_the_output_nan_are_a_divergence_not_a_wrong_activation() -> None:
    """Weights near 1e300 keep finite but make inf - inf = nan in a weighted sum: the sigmoid
    output is nan, which binary_cross_entropy used to report as 'use a sigmoid'."""
    X, y = data.make_circles(200, noise=0.05, factor=0.5, seed=0)
    for validation in (None, (X[:50], y[:50])):
        model = nn.MLP(2, [4, 6, 6, 4, 1], output_activation="sigmoid", seed=0)
        with pytest.raises(train.Diverged) as caught:
            train.fit(
                model, X, y, losses.binary_cross_entropy, optim.SGD(model, lr=1e300), epochs=20,
                validation=validation, progress=False,
            )  # fmt: skip
        assert str(caught.value).startswith("try a smaller learning rate (now lr=1e+300): ")
        assert "output is not a finite number" in str(caught.value)
        assert np.isfinite(train.evaluate(model, X, y, losses.binary_cross_entropy)[0])  # kept
        for parameter in model.parameters():
            parameter.data = 1e300  # the weights fit no longer leaves behind
        with pytest.raises(FloatingPointError, match=r"output is not a finite number: its weights"):
            train.evaluate(model, X[:50], y[:50], losses.binary_cross_entropy)

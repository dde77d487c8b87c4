"""fit's callbacks, History.step_loss, the repr after early stopping, and the refusals fit makes
before training (an optimizer made for another model, a callback it could not call)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, data, losses, nn, optim, train
from microgradx.train import HOOKS, Callback, TrainingState


class Recorder(Callback):
    """Writes down every call: (hook, epoch, step, batch loss), and asks to stop where told."""

    def __init__(self, stop_in: str | None = None, at: int = 0) -> None:
        self.calls: list[tuple[str, int, int, float | None]] = []
        self.stop_in, self.at = stop_in, at
        self.weights_when_stopped: dict[str, float] | None = None

    def _record(self, hook: str, state: TrainingState) -> None:
        self.calls.append((hook, state.epoch, state.step, state.batch_loss))
        counter = state.step if hook == "on_step_end" else state.epoch
        if hook == self.stop_in and counter == self.at:
            state.stop = True
            self.weights_when_stopped = state.model.state_dict()

    def on_train_start(self, state: TrainingState) -> None:
        self._record("on_train_start", state)

    def on_epoch_start(self, state: TrainingState) -> None:
        self._record("on_epoch_start", state)

    def on_step_end(self, state: TrainingState) -> None:
        self._record("on_step_end", state)

    def on_epoch_end(self, state: TrainingState) -> None:
        self._record("on_epoch_end", state)

    def on_train_end(self, state: TrainingState) -> None:
        self._record("on_train_end", state)


def problem(n: int, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, X @ [1.5, -2.0] + 0.5


def run(
    n: int, batch_size: int | None, epochs: int, callbacks: list[Any], **options: Any
) -> tuple[nn.Module, train.History]:
    X, y = problem(n)
    model = nn.Neuron(2, activation="linear", seed=0)
    history = train.fit(
        model,
        X,
        y,
        losses.mse,
        optim.SGD(model, lr=0.05),
        epochs=epochs,
        batch_size=batch_size,
        progress=False,
        seed=1,
        callbacks=callbacks,
        **options,
    )
    return model, history


def expected_order(epochs: int, steps_per_epoch: int) -> list[str]:
    epoch = ["on_epoch_start", *["on_step_end"] * steps_per_epoch, "on_epoch_end"]
    return ["on_train_start", *epoch * epochs, "on_train_end"]


sizes = st.integers(1, 12).flatmap(
    lambda n: st.tuples(st.just(n), st.none() | st.integers(1, n), st.integers(1, 4))
)


@given(sizes)
def test_every_hook_is_called_in_order_with_the_right_numbers(
    size: tuple[int, int | None, int],
) -> None:
    n, batch_size, epochs = size
    steps_per_epoch = math.ceil(n / (batch_size or n))
    recorder = Recorder()
    _, history = run(n, batch_size, epochs, [recorder])
    hooks = [hook for hook, *_ in recorder.calls]
    assert hooks == expected_order(epochs, steps_per_epoch)
    steps = [
        (epoch, step, loss) for hook, epoch, step, loss in recorder.calls if hook == "on_step_end"
    ]
    total = epochs * steps_per_epoch
    assert [step for _, step, _ in steps] == list(range(1, total + 1))  # the global step count
    assert [epoch for epoch, _, _ in steps] == [1 + i // steps_per_epoch for i in range(total)]
    assert [loss for _, _, loss in steps] == history.step_loss  # what was seen is what was kept
    starts = [epoch for hook, epoch, _, _ in recorder.calls if hook == "on_epoch_start"]
    assert starts == list(range(1, epochs + 1))
    assert recorder.calls[0][1:] == (0, 0, None)  # on_train_start: nothing has happened yet
    assert recorder.calls[-1][1:3] == (epochs, total)
    assert history.steps == total and history.stopped_by is None


@given(sizes)
def test_callbacks_are_called_in_list_order_and_a_function_runs_after_every_epoch(
    size: tuple[int, int | None, int],
) -> None:
    n, batch_size, epochs = size
    order: list[str] = []

    class Named(Callback):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_epoch_end(self, state: TrainingState) -> None:
            order.append(self.name)

    class DuckTyped:  # not a Callback: one method is enough
        def on_epoch_end(self, state: TrainingState) -> None:
            order.append("duck")

    def after_every_epoch(state: TrainingState) -> None:
        order.append(f"function {state.epoch} {state.history.epochs}")

    run(n, batch_size, epochs, [Named("a"), after_every_epoch, DuckTyped(), Named("b")])
    assert order == [
        name
        for epoch in range(1, epochs + 1)
        for name in ["a", f"function {epoch} {epoch}", "duck", "b"]
    ]


@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_step_loss_has_one_entry_a_step_and_its_epoch_means_are_the_epoch_losses(
    steps_per_epoch: int, batch_size: int, epochs: int
) -> None:
    _, history = run(steps_per_epoch * batch_size, batch_size, epochs, [])
    assert len(history.step_loss) == history.steps == epochs * steps_per_epoch
    means = np.reshape(history.step_loss, (epochs, steps_per_epoch)).mean(axis=1)
    assert np.allclose(means, history.loss, rtol=0, atol=1e-12)


@given(st.integers(1, 10), st.integers(1, 3))
def test_a_full_batch_step_loss_is_the_loss_of_the_weights_before_the_step(
    n: int, epochs: int
) -> None:
    """An independent check: the loss recorded at each step, recomputed with NumPy from the
    weights the model had just before that step."""
    X, y = problem(n)

    class Weights(Callback):
        def __init__(self) -> None:
            self.before: list[dict[str, float]] = []

        def on_epoch_start(self, state: TrainingState) -> None:
            self.before.append(state.model.state_dict())

    weights = Weights()
    _, history = run(n, None, epochs, [weights])
    for before, recorded in zip(weights.before, history.step_loss, strict=True):
        prediction = X @ [before["w1"], before["w2"]] + before["b"]
        assert recorded == pytest.approx(np.mean((prediction - y) ** 2), rel=1e-12)


# --- stopping from a callback ---------------------------------------------------------------


@given(sizes, st.data())
def test_stopping_after_a_step_ends_that_epoch_there_and_the_history_says_so(
    size: tuple[int, int | None, int], draw: Any
) -> None:
    n, batch_size, epochs = size
    batch = batch_size or n
    steps_per_epoch = math.ceil(n / batch)
    k = draw.draw(st.integers(1, epochs * steps_per_epoch), label="stop after step")
    stopper = Recorder(stop_in="on_step_end", at=k)
    model, history = run(n, batch_size, epochs, [stopper])
    assert history.steps == k and history.epochs == math.ceil(k / steps_per_epoch)
    assert history.stopped_by == "Recorder" and not history.stopped_early
    assert f"stopped by Recorder after step {k}" in repr(history)
    assert model.state_dict() == stopper.weights_when_stopped  # no step after the k-th
    # the last epoch is recorded over the examples it saw
    done = k - (history.epochs - 1) * steps_per_epoch
    seen = [min(batch, n - i * batch) for i in range(done)]
    last = history.step_loss[-done:]
    assert history.loss[-1] == pytest.approx(np.dot(last, seen) / sum(seen), rel=1e-12)
    hooks = [hook for hook, *_ in stopper.calls]
    assert hooks[-3:] == ["on_step_end", "on_epoch_end", "on_train_end"]


@given(sizes, st.data())
def test_stopping_at_an_epoch_boundary(size: tuple[int, int | None, int], draw: Any) -> None:
    n, batch_size, epochs = size
    steps_per_epoch = math.ceil(n / (batch_size or n))
    e = draw.draw(st.integers(1, epochs), label="stop at epoch")
    after = Recorder(stop_in="on_epoch_end", at=e)
    _, history = run(n, batch_size, epochs, [after])
    assert history.epochs == e and history.steps == e * steps_per_epoch
    assert [hook for hook, *_ in after.calls] == expected_order(e, steps_per_epoch)
    assert history.stopped_by == "Recorder"

    before = Recorder(stop_in="on_epoch_start", at=e)  # that epoch does not run
    _, history = run(n, batch_size, epochs, [before])
    assert history.epochs == e - 1 and history.steps == (e - 1) * steps_per_epoch
    assert [hook for hook, *_ in before.calls][-2:] == ["on_epoch_start", "on_train_end"]


def test_stopping_before_the_first_epoch_trains_nothing() -> None:
    untouched = nn.Neuron(2, activation="linear", seed=0).state_dict()
    model, history = run(8, None, 5, [Recorder(stop_in="on_train_start", at=0)])
    assert history.epochs == history.steps == 0 and model.state_dict() == untouched
    assert history.stopped_by == "Recorder" and repr(history) == "History(no epochs)"


def test_a_function_that_stops_is_named_by_its_name() -> None:
    def enough(state: TrainingState) -> None:
        state.stop = state.history.loss[-1] < 1.0

    _, history = run(20, None, 200, [enough])
    assert history.stopped_by == "enough" and history.loss[-1] < 1.0 <= history.loss[-2]


def test_on_train_end_runs_even_when_training_fails() -> None:
    recorder = Recorder()
    X, y = problem(10)
    model = nn.Neuron(2, activation="linear", seed=0)
    with pytest.raises(train.Diverged):
        train.fit(
            model,
            X,
            1e3 * y,
            losses.mse,
            optim.SGD(model, lr=1e6),
            epochs=50,
            progress=False,
            callbacks=[recorder],
        )
    assert recorder.calls[-1][0] == "on_train_end" and not model.training


# --- early stopping and progress, with callbacks --------------------------------------------


def early(callbacks: list[Any], progress: bool = False) -> tuple[nn.Module, train.History]:
    """Training-loss early stopping with too large a learning rate: it stops before the end."""
    X, y = data.make_moons(60, noise=0.3, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    history = train.fit(
        model,
        X,
        y,
        losses.binary_cross_entropy_with_logits,
        optim.SGD(model, lr=8.0),
        epochs=60,
        early_stopping=5,
        progress=progress,
        callbacks=callbacks,
    )
    return model, history


def test_early_stopping_is_seen_by_callbacks_which_end_with_the_best_weights() -> None:
    class Watch(Callback):
        def __init__(self) -> None:
            self.stops: list[bool] = []
            self.at_end: dict[str, float] = {}

        def on_epoch_end(self, state: TrainingState) -> None:
            self.stops.append(state.stop)

        def on_train_end(self, state: TrainingState) -> None:
            self.at_end = state.model.state_dict()

    watch = Watch()
    model, history = early([watch])
    assert history.stopped_early and history.stopped_by == "early stopping"
    assert history.restored_best and history.best_epoch is not None
    assert history.epochs == history.best_epoch + 5 < 60
    assert watch.stops == [False] * (history.epochs - 1) + [True]
    assert watch.at_end == model.state_dict()  # on_train_end comes after the best is put back
    _, alone = early([])
    assert alone.loss == history.loss  # a callback that only watches changes nothing


def test_the_repr_after_early_stopping_reports_the_restored_epoch() -> None:
    _, history = early([])
    best, n = history.best_epoch, history.epochs
    assert best is not None and best < n
    text = repr(history)
    assert f"best epoch {best} of {n} (restored)" in text
    assert f"loss {history.loss[0]:.4f} → {history.loss[best - 1]:.4f}" in text
    assert f"accuracy {history.accuracy[best - 1]:.1%}" in text
    assert f"{history.loss[-1]:.4f}" not in text and "stopped early" in text


numbers = st.floats(0.0, 10.0, allow_nan=False)


@given(st.lists(st.tuples(numbers, numbers, numbers, numbers), min_size=2, max_size=30), st.data())
def test_a_restored_historys_repr_shows_its_best_epochs_numbers(
    rows: list[tuple[float, float, float, float]], draw: Any
) -> None:
    best = draw.draw(st.integers(1, len(rows) - 1))
    history = train.History(
        loss=[r[0] for r in rows],
        accuracy=[r[1] / 10 for r in rows],
        val_loss=[r[2] for r in rows],
        val_accuracy=[r[3] / 10 for r in rows],
        best_epoch=best,
        stopped_early=True,
        restored_best=True,
    )
    loss, accuracy, val_loss, val_accuracy = rows[best - 1]
    assert repr(history) == (
        f"History({len(rows)} epochs, best epoch {best} of {len(rows)} (restored): "
        f"loss {rows[0][0]:.4f} → {loss:.4f}, accuracy {accuracy / 10:.1%}, "
        f"val_loss {val_loss:.4f}, val_accuracy {val_accuracy / 10:.1%}, stopped early)"
    )


def test_progress_lines_still_come_with_callbacks(capsys: pytest.CaptureFixture[str]) -> None:
    def shout(state: TrainingState) -> None:
        print(f"callback {state.epoch}")

    _, history = early([shout], progress=True)
    out = capsys.readouterr().out.splitlines()
    assert out.index("callback 1") == 1 and out[0].startswith("epoch  1/60  loss")
    assert out[-1] == f"stopped early after epoch {history.epochs}; kept epoch {history.best_epoch}"


# --- refused before training: the model is left as it was -----------------------------------


def refused(error: type[Exception], match: str, **arguments: Any) -> None:
    X, y = problem(10)
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    call: dict[str, Any] = {
        "model": model,
        "X": X,
        "y": y,
        "loss": losses.mse,
        "optimizer": optim.SGD(model, lr=0.1),
        "epochs": 3,
        "progress": False,
    }
    call.update(arguments)
    if callable(call["optimizer"]):
        call["optimizer"] = call["optimizer"](model)
    with pytest.raises(error, match=match):
        train.fit(**call)
    assert model.state_dict() == before
    assert all(p.grad == 0.0 for p in model.parameters())


def test_an_optimizer_made_for_another_model_is_refused() -> None:
    earlier = nn.MLP(2, [3, 1], seed=0)  # the same architecture and weights, other Values
    refused(
        ValueError,
        r"^the optimizer holds 0 of this model's 13 parameters: it was made for another model"
        r".*optim\.Adam\(model\.parameters\(\), \.\.\.\)$",
        optimizer=optim.Adam(earlier.parameters(), lr=0.1),
    )
    refused(TypeError, "optimizer must be one of microgradx.optim's", optimizer=lambda m: None)


def test_an_optimizer_for_part_of_the_model_trains_that_part_only() -> None:
    """A frozen part is legitimate, and so is a parameter of the loss's own."""
    X, y = problem(20)
    model = nn.MLP(2, [3, 1], seed=0)
    frozen = model.layers[0].state_dict()
    scale = Value(1.0, label="scale")
    head = optim.SGD([*model.layers[1].parameters(), scale], lr=0.05)

    def scaled_mse(prediction: Value, target: Any) -> Value:
        return losses.mse(prediction * scale, target)

    history = train.fit(model, X, y, scaled_mse, head, epochs=5, progress=False)
    assert model.layers[0].state_dict() == frozen and scale.data != 1.0
    assert history.loss[-1] < history.loss[0]


class NoHooks:
    def train(self, state: TrainingState) -> None: ...


class Misspelt(Callback):
    def on_epoch_ends(self, state: TrainingState) -> None: ...


class NoState(Callback):
    def on_step_end(self) -> None:  # type: ignore[override]
        ...


class NotAMethod:
    on_step_end = 3


def two_arguments(state: TrainingState, more: int) -> None: ...


@pytest.mark.parametrize(
    "callbacks, complaint",
    [
        (Recorder(), r"^callbacks must be a list, got Recorder: write callbacks=\[my_callback\]"),
        ([NoHooks()], r"^callbacks\[0\] \(NoHooks\): .* is not a callback: give an object with"),
        ([Recorder(), 42], r"^callbacks\[1\] \(int\): 42 is not a callback.*train\.Callback"),
        ([Misspelt()], r"method on_epoch_ends, which fit never calls: did you mean on_epoch_end\?"),
        ([NoState()], r"\(NoState\) has on_step_end\(\), which does not take.*\(self, state\)"),
        ([NotAMethod()], r"\(NotAMethod\): its on_step_end is 3, not a method"),
        ([two_arguments], r"is a function, which fit runs after every epoch.*def two_arguments"),
        (
            [Recorder],
            r"^callbacks\[0\] \(Recorder\) is a class; pass an instance of it: Recorder\(\)",
        ),
    ],
)
def test_a_bad_callback_is_refused_before_training(
    callbacks: Any, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(TypeError, complaint, callbacks=callbacks, progress=True)
    assert capsys.readouterr() == ("", "")  # not even the progress bar started


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_of_the_base_class_does_nothing(hook: str) -> None:
    X, y = problem(8)
    plain, with_base = nn.Neuron(2, seed=0), nn.Neuron(2, seed=0)
    for model, callbacks in [(plain, []), (with_base, [Callback()])]:
        train.fit(
            model,
            X,
            y,
            losses.mse,
            optim.SGD(model, lr=0.1),
            2,
            progress=False,
            callbacks=callbacks,
        )
    assert plain.state_dict() == with_base.state_dict() and hasattr(Callback, hook)

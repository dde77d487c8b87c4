"""Issue 14's training half: batches never hold a silent inf or nan, and training keeps what it
learned when it diverges or is interrupted (weights, BatchNorm statistics, optimizer state and
the History); everything fit can check is checked before the first step changes anything."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from microgradx import Value, data, losses, nn, optim, train
from microgradx.engine import UNREACHED

X, Y = data.make_moons(40, noise=0.1, seed=0)
BIG = st.floats(-1e200, 1e200) | st.sampled_from([1e154, -1e160, 3e300, -2e307, 1e308])
NUMBER = BIG | st.sampled_from([np.inf, -np.inf, np.nan]) | st.floats(-10, 10)


def weights(model: nn.Module) -> list[float]:
    return [p.data for p in model.parameters()]


# --- batches: the same overflow checks as single numbers ----------------------------------------


def per_example(build: Any, columns: list[list[float]]) -> tuple[int | None, list[float]]:
    """The oracle: the same arithmetic on single numbers, example by example (floats are
    checked on their own path): the first example that overflows, and every result."""
    results = []
    for i, row in enumerate(zip(*columns)):
        try:
            results.append(build([Value(x) for x in row]).data)
        except OverflowError:
            return i, results
    return None, results


ARITHMETIC = {
    "add": lambda v: v[0] + v[1],
    "sub": lambda v: v[0] - v[1],
    "mul": lambda v: v[0] * v[1],
    "neg": lambda v: -v[0],
}  # one op each: a chain of ops stops at the first op that overflows, in any example


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(ARITHMETIC)),
    size=st.integers(1, 6),
    data_=st.data(),
)
def test_a_batch_overflows_exactly_where_single_numbers_do_and_names_the_first_example(
    name: str, size: int, data_: st.DataObject
) -> None:
    build = ARITHMETIC[name]
    columns = [data_.draw(st.lists(NUMBER, min_size=size, max_size=size)) for _ in range(2)]
    first, expected = per_example(build, columns)
    batch = [Value(np.array(column)) for column in columns]
    if first is None:
        np.testing.assert_array_equal(build(batch).data, expected)  # (nan where nan)
    else:
        with pytest.raises(OverflowError, match=rf"at example {first} of the batch for"):
            build(batch)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 8),
    size=st.integers(1, 5),
    data_=st.data(),
)
def test_the_weighted_sum_row_on_a_batch_overflows_where_its_examples_do(
    n: int, size: int, data_: st.DataObject
) -> None:
    from microgradx import weighted_sum

    columns = [data_.draw(st.lists(BIG, min_size=size, max_size=size)) for _ in range(2 * n + 1)]
    first, expected = per_example(lambda v: weighted_sum(v[:n], v[n:-1], v[-1]), columns)
    batch = [Value(np.array(column)) for column in columns]
    if first is None:
        np.testing.assert_allclose(
            weighted_sum(batch[:n], batch[n:-1], batch[-1]).data, expected, rtol=1e-12
        )
    else:
        with pytest.raises(OverflowError, match=rf"weighted_sum .* at example {first} of the"):
            weighted_sum(batch[:n], batch[n:-1], batch[-1])


def test_the_issues_reproductions_raise_instead_of_holding_inf_or_nan() -> None:
    b = Value(np.array([1e200, 2.0]), label="b")
    with pytest.raises(OverflowError, match=r"mul \(\*\) gave inf at example 0 .* 'b' = 1e\+200"):
        b * 1e200
    with pytest.raises(OverflowError, match="at example 1"):
        Value(np.array([1.0, 1e300])) * Value(np.array([1.0, 1e300]))
    with pytest.raises(OverflowError, match=r"gave inf for the output of sum = 1e\+300"):
        Value(np.array([1e300, 1.0])).sum() * 1e10  # a reduced batch: one number, no example
    inputs_already_inf = Value(np.array([np.inf, 1.0])) * 2.0  # as for numbers: passed along
    assert inputs_already_inf.data[0] == np.inf


def test_users_see_the_error_and_no_numpy_warning_before_it() -> None:
    """Outside pytest (which turns warnings into errors), NumPy's own RuntimeWarning would come
    before the engine's error and say less: the engine keeps it quiet, and only its own."""
    script = textwrap.dedent(
        """
        import numpy as np
        from microgradx import Value, data, losses, nn, optim, train
        X, y = data.make_moons(40, seed=0)
        model = nn.MLP(2, [4, 1], seed=0)
        for p in model.parameters():
            p.data = 1e200  # diverged weights
        for call in (lambda: Value(np.array([1e200, 2.0])) * 1e200,
                     lambda: train.accuracy(model, X, y)):
            try:
                call()
            except ArithmeticError as error:
                print(type(error).__name__, error)
        np.array([1e300]) * 1e300  # the user's own NumPy code still warns
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    said = run.stdout.splitlines()
    assert said[0].startswith("OverflowError mul (*) gave inf at example 0")
    assert said[1].startswith("FloatingPointError the model's output is not a finite number")
    assert run.stderr.count("RuntimeWarning") == 1 and "<string>" in run.stderr  # the user's


# --- fit: checked before the first step --------------------------------------------------------


def untouched_after(call: Any, model: nn.Module, optimizer: optim.Optimizer) -> None:
    before, buffers, state = weights(model), model.buffer_dict(), optimizer.state_dict()
    call()
    assert weights(model) == before and model.buffer_dict() == buffers
    assert all(np.array_equal(state[k], v) for k, v in optimizer.state_dict().items())


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"schedule": "cosine"}, TypeError, "schedule must be a learning-rate schedule"),
        ({"schedule": 0.1}, TypeError, "schedule must be a learning-rate schedule"),
        ({"validation": (np.zeros((5, 3)), Y[:5])}, ValueError, "validation: MLP expects 2 inputs"),
        ({"loss": losses.cross_entropy}, ValueError, "cross_entropy needs a score for each class"),
        ({"loss": lambda output, y: output}, TypeError, "must return a single-number Value"),
    ],
)
def test_fit_refuses_before_the_first_step_changes_anything(
    change: dict[str, Any], error: type[Exception], words: str
) -> None:
    model = nn.MLP(2, [4, 4, 1], batch_norm=True, seed=0)
    sgd = optim.SGD(model, lr=0.1, momentum=0.9)
    arguments: dict[str, Any] = {"loss": losses.hinge, "epochs": 3, "progress": False, **change}

    def fit() -> None:
        with pytest.raises(error, match=words):
            train.fit(model, X, Y, optimizer=sgd, **arguments)

    untouched_after(fit, model, sgd)


def test_a_schedule_of_another_optimizer_is_refused() -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    sgd, other = optim.SGD(model, lr=0.1), optim.SGD(model, lr=0.1)
    with pytest.raises(ValueError, match="another optimizer"):
        train.fit(
            model, X, Y, losses.hinge, sgd, epochs=2, progress=False,
            schedule=optim.CosineDecay(other, steps=10),
        )  # fmt: skip


def test_cross_entropy_on_one_output_says_what_to_use() -> None:
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        losses.cross_entropy(Value(np.array([0.5, -1.0])), np.array([0, 1]))


# --- fit: divergence and Ctrl-C keep what was learned -------------------------------------------


class Recorder:
    """Every step's weights and optimizer state (after it), and every epoch's weights."""

    def __init__(self, model: nn.Module, optimizer: optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.after_step = {0: (weights(model), optimizer.state_dict())}
        self.after_epoch: dict[int, list[float]] = {}

    def on_step_end(self, state: train.TrainingState) -> None:
        self.after_step[state.step] = (weights(self.model), self.optimizer.state_dict())

    def on_epoch_end(self, state: train.TrainingState) -> None:
        self.after_epoch[state.epoch] = weights(self.model)


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(1.0, 1e308),
    batch_size=st.one_of(st.none(), st.integers(5, 40)),
    loss=st.sampled_from([losses.mse, losses.hinge, losses.binary_cross_entropy_with_logits]),
    momentum=st.sampled_from([0.0, 0.9]),
)
def test_divergence_leaves_the_last_weights_with_a_finite_loss_and_keeps_the_history(
    lr: float, batch_size: int | None, loss: Any, momentum: float
) -> None:
    model = nn.MLP(2, [8, 1], seed=1)
    sgd = optim.SGD(model, lr=lr, momentum=momentum)
    recorder = Recorder(model, sgd)
    try:
        train.fit(
            model, X * 30, Y, loss, sgd, epochs=30, batch_size=batch_size, progress=False,
            callbacks=[recorder],
        )  # fmt: skip
    except train.Diverged as error:
        message = str(error)
        history = error.history
    else:
        assume(False)  # (most of these runs diverge)
    assert history is not None and history.stopped_by == "divergence"
    assert history.steps == len(recorder.after_step) - 1  # every step taken, its loss kept
    kept = int(message.split("after step ")[1].split(";")[0]) if "after step" in message else 0
    assert weights(model) == recorder.after_step[kept][0]
    for name, array in sgd.state_dict().items():  # the optimizer is back with the weights
        np.testing.assert_array_equal(array, recorder.after_step[kept][1][name])
    if batch_size is None:  # (a mini-batch's loss was measured on that batch alone)
        assert np.isfinite(train.evaluate(model, X * 30, Y, loss)[0])  # finite there
    assert message.startswith("try a smaller learning rate") and "\n" not in message


def test_divergence_with_early_stopping_goes_back_to_the_best_epoch() -> None:
    model = nn.MLP(2, [8, 1], seed=0)
    sgd = optim.SGD(model, lr=0.1)
    recorder = Recorder(model, sgd)

    def blow_up(state: train.TrainingState) -> None:
        if state.epoch == 6:
            sgd.lr = 1e300

    with pytest.raises(train.Diverged, match=r"back at its best weights, of epoch (\d+)") as caught:
        train.fit(
            model, X, Y, losses.hinge, sgd, epochs=40, early_stopping=20, progress=False,
            validation=(X, Y), callbacks=[recorder, blow_up],
        )  # fmt: skip
    history = caught.value.history
    assert history is not None and history.restored_best and history.best_epoch is not None
    assert f"of epoch {history.best_epoch};" in str(caught.value)
    assert weights(model) == recorder.after_epoch[history.best_epoch]


class CtrlC:
    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_step_end(self, state: train.TrainingState) -> None:
        if state.step == self.at_step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("early_stopping", [None, 50])
def test_ctrl_c_keeps_the_weights_the_history_and_says_where_they_are(
    early_stopping: int | None,
) -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    sgd = optim.SGD(model, lr=0.1)
    recorder = Recorder(model, sgd)
    with pytest.raises(KeyboardInterrupt) as caught:
        train.fit(
            model, X, Y, losses.hinge, sgd, epochs=30, batch_size=10, progress=False,
            early_stopping=early_stopping, callbacks=[recorder, CtrlC(at_step=18)],
        )  # fmt: skip
    history: train.History = caught.value.history  # type: ignore[attr-defined]
    message = str(caught.value)
    assert history.stopped_by == "Ctrl-C" and history.steps == 18 and history.epochs == 4
    assert message.startswith("training stopped by Ctrl-C in epoch 5; the model ")
    if early_stopping:
        assert weights(model) == recorder.after_epoch[history.best_epoch or 0]
        assert f"back at its best weights, of epoch {history.best_epoch}" in message
    else:
        assert weights(model) == recorder.after_step[18][0]
        assert "keeps its weights, after step 18" in message
    assert not model.training  # left in eval mode, as after any fit


def test_ctrl_c_inside_an_optimizer_step_leaves_the_step_before_it_whole() -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    adam = optim.Adam(model, lr=0.01)
    recorder = Recorder(model, adam)
    update, calls = adam.update, []

    def interrupted(*arguments: Any) -> Any:
        calls.append(1)
        new = update(*arguments)  # the state moves on, then the interruption comes
        if len(calls) == 7:
            raise KeyboardInterrupt
        return new

    adam.update = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt, match="after step 6;"):
        train.fit(
            model, X, Y, losses.hinge, adam, epochs=5, batch_size=10, progress=False,
            callbacks=[recorder],
        )  # fmt: skip
    assert weights(model) == recorder.after_step[6][0]
    for name, array in adam.state_dict().items():
        np.testing.assert_array_equal(array, recorder.after_step[6][1][name])


def test_a_huge_learning_rate_is_a_divergence_not_advice_about_activations() -> None:
    for loss, activation in [
        (losses.binary_cross_entropy, "sigmoid"),
        (losses.hinge, "linear"),
        (losses.mse, "linear"),
    ]:
        model = nn.MLP(2, [4, 1], output_activation=activation, seed=0)
        with pytest.raises(train.Diverged) as caught:
            train.fit(model, X, Y, loss, optim.SGD(model, lr=1e308), epochs=5, progress=False)
        assert "output_activation" not in str(caught.value)
        assert str(caught.value).startswith("try a smaller learning rate (now lr=1e+308)")


# --- optimizers: a step is all or nothing, state included ---------------------------------------

OPTIMIZERS = {
    "sgd momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "rmsprop": lambda ps: optim.RMSProp(ps, lr=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(OPTIMIZERS)),
    grads=st.lists(st.lists(st.floats(-5, 5), min_size=3, max_size=3), min_size=0, max_size=4),
    bad=st.floats(1e300, 1e308),
)
def test_a_refused_step_leaves_parameters_and_state_as_they_were(
    name: str, grads: list[list[float]], bad: float
) -> None:
    params = [Value(0.5, label="a"), Value(-1.0, label="b"), Value(2.0, label="c")]
    optimizer = OPTIMIZERS[name](params)
    for step in grads:  # some steps first, so the state is not zeros
        for p, g in zip(params, step):
            p.grad = g
        optimizer.step()
    before, state = [p.data for p in params], optimizer.state_dict()
    optimizer.lr = bad
    for p, g in zip(params, [1e300, UNREACHED, -1e300]):
        p.grad = g
    try:
        optimizer.step()
    except FloatingPointError as error:
        assert "not a finite number" in str(error)
    else:
        assume(False)  # (Adam's steps are bounded by lr: a finite step is not refused)
    assert [p.data for p in params] == before
    for key, array in optimizer.state_dict().items():
        np.testing.assert_array_equal(array, state[key], err_msg=key)


def test_an_interrupted_step_leaves_no_trace_in_the_state() -> None:
    params = [Value(0.5), Value(-1.0)]
    adam = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = 1.0
    adam.step()
    state = adam.state_dict()

    def interrupted(data: Any, grad: Any, reached: Any) -> Any:
        adam.mean[:] = 123.0  # a half-done update
        raise KeyboardInterrupt

    adam.update = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        adam.step()
    for key, array in adam.state_dict().items():
        np.testing.assert_array_equal(array, state[key])


# --- the red-team pass's findings ---------------------------------------------------------------


def test_the_last_steps_weights_are_checked_so_fit_never_ends_at_overflowing_weights() -> None:
    for epochs, validation in [(1, None), (3, None), (1, (X, Y))]:
        model = nn.MLP(2, [8, 1], seed=0)
        adam = optim.Adam(model, lr=1e308)
        with pytest.raises(train.Diverged, match="back at its last weights with a finite loss"):
            train.fit(
                model, X, Y, losses.hinge, adam, epochs=epochs, validation=validation,
                progress=False,
            )  # fmt: skip
        assert np.isfinite(train.evaluate(model, X, Y, losses.hinge)[0])


def test_any_error_keeps_the_history_and_the_best_weights_and_says_so() -> None:
    model = nn.MLP(2, [8, 1], seed=0)
    recorder = Recorder(model, optim.SGD(model, lr=0.1))

    def broken(state: train.TrainingState) -> None:
        if state.epoch == 6:
            raise RuntimeError("my callback broke")

    with pytest.raises(RuntimeError, match=r"^my callback broke\n?") as caught:
        train.fit(
            model, X, Y, losses.hinge, recorder.optimizer, epochs=20, early_stopping=10,
            validation=(X, Y), progress=False, callbacks=[recorder, broken],
        )  # fmt: skip
    history: train.History = caught.value.history  # type: ignore[attr-defined]
    assert history.epochs == 6 and history.restored_best and history.best_epoch is not None
    assert history.stopped_by == "RuntimeError"
    assert weights(model) == recorder.after_epoch[history.best_epoch]
    if sys.version_info >= (3, 11):  # notes: Python 3.11 and later
        assert caught.value.__notes__ == [
            f"fit: the model is back at its best weights, of epoch {history.best_epoch}; "
            "the History so far is error.history"
        ]


def test_ctrl_c_inside_a_loss_puts_back_batchnorms_statistics_too() -> None:
    model = nn.MLP(2, [8, 8, 1], batch_norm=True, seed=0)
    sgd = optim.SGD(model, lr=0.1)
    recorder = Recorder(model, sgd)
    statistics: dict[int, dict[str, float]] = {}
    calls = []

    def loss(output: Any, target: Any) -> Value:
        calls.append(1)
        if len(calls) == 4:  # (the fourth step's forward ran, BatchNorm's statistics moved)
            raise KeyboardInterrupt
        return losses.hinge(output, target)

    def keep(state: train.TrainingState) -> None:
        statistics[state.step] = model.buffer_dict()

    recorder.on_epoch_end = keep  # type: ignore[method-assign]  # (after every step, below)
    with pytest.raises(KeyboardInterrupt, match="is back at its weights, after step 3;"):
        train.fit(
            model, X, Y, loss, sgd, epochs=5, batch_size=10, progress=False,
            callbacks=[recorder, type("Each", (), {"on_step_end": staticmethod(keep)})()],
        )  # fmt: skip
    assert weights(model) == recorder.after_step[3][0]
    assert model.buffer_dict() == statistics[3]


def test_fit_refuses_what_would_fail_mid_training_before_the_first_step() -> None:
    model = nn.MLP(2, [8, 8, 1], batch_norm=True, seed=0)
    sgd = optim.SGD(model, lr=0.1)
    for arguments, error, words in [
        ({"schedule": optim.CosineDecay}, TypeError, "schedule must be a learning-rate schedule"),
        ({"batch_size": 8, "X": X[:17], "y": Y[:17]}, ValueError, "leave a last batch of 1"),
        ({"loss": lambda o, t: o.mean() / 0}, ZeroDivisionError, "needs a non-zero divisor"),
        ({"loss": lambda o, t: o.mean() * math.nan}, FloatingPointError, "the loss became nan"),
        ({"X": X + 1j}, TypeError, "X must hold real numbers, got complex128"),
        ({"X": [["a", "b"]] * 40}, TypeError, "X must hold real numbers"),
        ({"X": [[1.0]] * 39 + [[1.0, 2.0]]}, ValueError, "X has rows of different lengths"),
    ]:
        given = {"X": X, "y": Y, "loss": losses.hinge, **arguments}

        def fit(given: dict[str, Any] = given, error: Any = error, words: str = words) -> None:
            with pytest.raises(error, match=re.escape(words)):
                train.fit(model, optimizer=sgd, epochs=2, progress=False, **given)

        untouched_after(fit, model, sgd)


def test_predicting_names_bad_data_instead_of_blaming_the_weights() -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X holds a number that is not finite at example 3$"):
        train.predict(model, bad)
    with pytest.raises(ValueError, match="X holds no examples"):
        train.accuracy(model, np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="40 examples in X but 5 labels in y"):
        train.accuracy(model, X, Y[:5])
    with pytest.raises(ValueError, match="40 examples in X but 5 labels or targets in y"):
        train.evaluate(model, X, Y[:5], losses.hinge)


def test_search_says_when_no_weights_it_tried_had_a_finite_loss() -> None:
    for strategy in ("random", "local"):
        model = nn.MLP(2, [4, 1], seed=0)
        before = weights(model)
        with pytest.raises(FloatingPointError, match="no weights with a finite loss"):
            train.search(
                model, X * 1e300, Y, losses.mse, strategy, evaluations=4, scale=1e308,
                step_size=1e308,
            )  # fmt: skip
        assert weights(model) == before


def test_a_batch_inputs_gradient_is_checked_as_a_numbers_is() -> None:
    from microgradx import custom_op

    nan_slope = custom_op("nan_slope", lambda a: a, lambda a, out: math.nan)
    for x in (Value(2.0, label="x"), Value(np.array([1.0, 2.0]), label="x")):
        with pytest.raises(FloatingPointError, match="the gradient of 'x' is"):
            nan_slope(x).sum().backward()


@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_a_custom_op_gives_one_number_per_example(sizes: tuple[int, int]) -> None:
    from microgradx import custom_op

    given, made = sizes
    resize = custom_op("resize", lambda a: np.ones(made), lambda a, out: 1.0)
    batch = Value(np.ones(given))
    if given == made:
        assert resize(batch).data.size == made
    else:
        with pytest.raises(ValueError, match=f"forward gave {made} numbers for batches of {given}"):
            resize(batch)
    with pytest.raises(ValueError, match=f"forward gave {made} numbers for numbers"):
        resize(Value(1.0))


def test_overflows_of_reductions_and_of_math_say_what_to_do() -> None:
    from microgradx import expression

    for reduce in (Value.sum, Value.mean):
        with pytest.raises(OverflowError, match=r"gave inf for .*: too large for a float; scale"):
            reduce(Value(np.array([1e308, 1e308])))
    with pytest.raises(OverflowError, match=r"^power \(\*\*1e\+308\) overflowed for 'x' = 2.0: "):
        expression.build("x**1e308", {"x": 2.0})


def test_pictures_of_a_model_name_bad_data_and_diverged_weights() -> None:
    from microgradx import surface

    model = nn.MLP(2, [4, 1], seed=0)
    bad = X.copy()
    bad[0, 0] = np.nan
    for call in (
        lambda: surface.loss_surface(model, bad, Y, losses.hinge, resolution=3),
        lambda: train.plane_around(bad),
    ):
        with pytest.raises(ValueError, match="X holds a number that is not finite at example 0"):
            call()
    with pytest.raises(ValueError, match="X holds no examples"):
        train.plane_around(np.zeros((0, 2)))
    for parameter in model.parameters():
        parameter.data = 1e300  # diverged: no SVD of overflowing directions, no LAPACK noise
    with pytest.raises(FloatingPointError, match="its weights grew too large"):
        surface.loss_surface(model, X, Y, losses.hinge, resolution=3)


def test_a_custom_op_that_always_warns_runs_once_more_quietly_where_warnings_are_errors() -> None:
    """(pytest turns warnings into errors) The engine reruns a forward that warned, with
    RuntimeWarnings quiet, and checks its result itself: no endless retry."""
    import warnings

    from microgradx import custom_op

    def forward(a: Any) -> Any:
        warnings.warn("a warning of its own", RuntimeWarning, stacklevel=1)
        return a * 1e200

    noisy = custom_op("noisy", forward, lambda a, out: 1e200)
    assert noisy(Value(2.0)).data == 2e200
    with pytest.raises(OverflowError, match="noisy gave inf at example 1 of the batch"):
        noisy(Value(np.array([1.0, 1e200])))


# --- the second red-team pass -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam", "adamw"])
def test_a_step_whose_state_would_overflow_is_refused_and_the_state_stays_loadable(
    name: str,
) -> None:
    params = [Value(1.0, label="w")]
    optimizer = OPTIMIZERS[name](params)
    params[0].grad = 1.0
    optimizer.step()
    before, state = params[0].data, optimizer.state_dict()
    params[0].grad = 1e200  # finite, but its square is not
    with pytest.raises(FloatingPointError, match=r"the (sum_of_squares|mean_square) of w is not"):
        optimizer.step()
    assert params[0].data == before
    for key, array in optimizer.state_dict().items():
        np.testing.assert_array_equal(array, state[key])
    optimizer.load_state_dict(optimizer.state_dict())  # (an inf in it would be refused)


def test_an_interrupted_validation_leaves_a_history_whose_lists_line_up() -> None:
    from microgradx import plot

    model = nn.MLP(2, [4, 1], seed=0)
    calls = []

    def loss(output: Any, target: Any) -> Value:
        calls.append(1)
        if len(calls) == 5:  # the validation after epoch 2 (a check, then step and validation)
            raise KeyboardInterrupt
        return losses.hinge(output, target)

    with pytest.raises(KeyboardInterrupt) as caught:
        train.fit(
            model, X, Y, loss, optim.SGD(model, lr=0.1), epochs=5, validation=(X, Y),
            progress=False,
        )  # fmt: skip
    history: train.History = caught.value.history  # type: ignore[attr-defined]
    lengths = {len(getattr(history, name)) for name in ("loss", "accuracy", "val_loss")}
    assert lengths == {1} and history.steps == 2
    plot.history(history)  # draws


def test_an_error_in_on_train_end_keeps_the_error_that_ended_training() -> None:
    class Closing(train.Callback):
        def on_train_end(self, state: train.TrainingState) -> None:
            raise RuntimeError("could not close my log")

    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(train.Diverged) as caught:
        train.fit(
            model, X, Y, losses.hinge, optim.SGD(model, lr=1e308), epochs=3, progress=False,
            callbacks=[Closing()],
        )  # fmt: skip
    assert caught.value.history is not None
    if sys.version_info >= (3, 11):
        assert "fit: on_train_end raised RuntimeError: could not close my log" in (
            caught.value.__notes__
        )
    with pytest.raises(RuntimeError, match="could not close my log") as late:
        train.fit(
            model, X, Y, losses.hinge, optim.SGD(model, lr=0.1), epochs=2, progress=False,
            callbacks=[Closing()],
        )  # fmt: skip
    assert late.value.history.epochs == 2  # type: ignore[attr-defined]


def test_a_bug_in_a_loss_is_not_called_divergence() -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    before = weights(model)

    def loss(output: Any, target: Any) -> Value:
        if len(calls) == 3:
            return 1 / 0  # type: ignore[no-any-return]
        calls.append(1)
        return losses.hinge(output, target)

    calls: list[int] = []
    with pytest.raises(ZeroDivisionError) as caught:
        train.fit(model, X, Y, loss, optim.SGD(model, lr=0.1), epochs=5, progress=False)
    assert not isinstance(caught.value, train.Diverged)
    assert caught.value.history.steps == 3  # type: ignore[attr-defined]
    assert weights(model) != before  # three steps kept


def test_search_by_gradient_keeps_the_engines_words_when_it_diverges() -> None:
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(train.Diverged, match=r"weighted_sum .* gave inf at example 0") as caught:
        train.search(model, X, Y, losses.mse, "gradient", evaluations=50, lr=1e300)
    assert isinstance(caught.value.__cause__, ArithmeticError)

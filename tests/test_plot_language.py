"""The words of the library's pictures speak the language in use: after language.use("zh")
every title, axis label, legend entry and note of a figure is Chinese (formulas and variable
names stay as they are); in English no Chinese is left. Read when the figure is drawn."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from microgradx import data, examples, language, lessons, losses, nn, optim, plot, train

matplotlib.use("Agg")

CHINESE = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
# What stays as it is in every language: the op table's formulas, the wave's, mathtext ($...$,
# matplotlib's tick labels on a log axis) and the names of things (Adam)
FORMULAS = sorted(
    {
        *(text for row in nn.ACTIVATION_ROWS.values() for text in (*row.maths, row.write("a"))),
        "sin(w·x + b)",
        "sin(3x + 1)",
        "Adam",
    },
    key=len,
    reverse=True,
)


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    language.use("en")
    import matplotlib.pyplot as plt

    plt.close("all")


def texts(figure: Figure) -> list[str]:
    """Every non-empty Text artist of the figure: titles, axis labels, legends, notes, ticks."""
    found = [t.get_text() for t in figure.findobj(Text)]
    return [text for text in found if text.strip()]


def english_words(text: str) -> list[str]:
    """The English words (4 letters or more) of `text` outside its formulas."""
    text = re.sub(r"\$[^$]*\$", "", text)
    for formula in FORMULAS:
        text = text.replace(formula, "")
    return ENGLISH_WORD.findall(text)


def figure_of(ax: Axes) -> Figure:
    figure = ax.figure
    assert isinstance(figure, Figure)
    return figure


def moons() -> tuple[np.ndarray, np.ndarray]:
    return data.make_moons(30, noise=0.1, seed=0)


def decision_boundary() -> Figure:
    X, y = moons()
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    return figure_of(plot.decision_boundary(model, X, y, resolution=20))


def several_classes() -> Figure:
    X, y = data.make_spiral(30, n_classes=3, seed=0)
    return figure_of(plot.decision_boundary(nn.MLP(2, [4, 3], seed=0), X, y, resolution=20))


def history() -> Figure:
    X, y = moons()
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    found = train.fit(
        model, X, y, losses.binary_cross_entropy, optim.Adam(model, lr=0.05), 3,
        validation=(X, y), progress=False,
    )  # fmt: skip
    assert found.best_epoch is not None
    return plot.history(found)


def activations() -> Figure:
    return plot.activations()


def surface_slice() -> Figure:
    """A slice through a network's weights (direction 1, 2), flat, with a path on it."""
    X, y = moons()
    model = nn.MLP(2, [2, 1], seed=0)
    paths = plot.descend(
        model, X, y, losses.mse, [plot.Run("SGD", lambda p: optim.SGD(p, lr=0.1))], 2
    )
    surface = plot.loss_surface(model, X, y, losses.mse, paths, resolution=5, seed=1)
    return figure_of(plot.draw_surface(surface))


def surface_3d() -> Figure:
    """The slice towards the start, in 3-D: the loss on the vertical axis."""
    import matplotlib.pyplot as plt

    X, y = moons()
    model = nn.MLP(2, [2, 1], seed=0)
    start = model.state_dict()
    [path] = plot.descend(
        model, X, y, losses.mse, [plot.Run("SGD", lambda p: optim.SGD(p, lr=0.1))], 3
    )
    model.load_state_dict(dict(zip(start, path.weights[-1])))
    surface = plot.loss_surface(
        model, X, y, losses.mse, [path], resolution=5, seed=1, directions="start"
    )
    ax = plt.figure().add_subplot(projection="3d")
    return figure_of(plot.draw_surface(surface, view="3d", ax=ax))


def surface_lessons() -> Figure:
    return plot.surface_lessons(seed=0)


def animation_frame(last: bool) -> Figure:
    """The animation's figure with its first frame (random weights) or its last drawn; a
    hidden neuron that outputs 0 everywhere (a dead ReLU) gets a note."""
    from microgradx.animation import _Drawing  # what animate and save_animation draw with

    X, y = moons()
    model = nn.MLP(2, [2, 1], output_activation="sigmoid", seed=0)
    dead = {
        f"layers.0.neurons.0.{name}": value for name, value in [("w1", 0), ("w2", 0), ("b", -1)]
    }
    model.load_state_dict({**model.state_dict(), **dead})
    snapshots = plot.Snapshots(X, y, grid=6, neurons=True)
    train.fit(
        model, X, y, losses.binary_cross_entropy, optim.SGD(model, lr=0.1), 2,
        validation=(X, y), progress=False, callbacks=[snapshots],
    )  # fmt: skip
    drawing = _Drawing(snapshots, dpi=60)
    drawing.draw(len(snapshots) - 1 if last else 0)
    return drawing.figure


FIGURES: dict[str, Callable[[], Figure]] = {
    "decision_boundary": decision_boundary,
    "decision_boundary, several classes": several_classes,
    "history": history,
    "activations": activations,
    "draw_surface, a slice": surface_slice,
    "draw_surface, 3-D": surface_3d,
    "surface_lessons": surface_lessons,
    "animation, first frame": lambda: animation_frame(last=False),
    "animation, last frame": lambda: animation_frame(last=True),
}


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the words, not the font
@pytest.mark.parametrize("name", FIGURES)
def test_every_word_of_a_figure_speaks_the_language_in_use(name: str) -> None:
    language.use("zh")
    chinese = texts(FIGURES[name]())
    assert any(CHINESE.search(text) for text in chinese), chinese
    left = {text: english_words(text) for text in chinese if english_words(text)}
    assert not left, f"English words left in the Chinese figure: {left}"
    language.use("en")
    english = texts(FIGURES[name]())
    assert [text for text in english if CHINESE.search(text)] == []
    assert any(english_words(text) for text in english) or name == "activations"


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_the_words_are_read_when_drawn_not_when_computed() -> None:
    X, y = moons()
    model = nn.MLP(2, [2, 1], seed=0)
    surface = plot.loss_surface(model, X, y, losses.mse, resolution=4, seed=1)  # in English
    assert surface.labels == ("direction 1", "direction 2")
    language.use("zh")
    ax = plot.draw_surface(surface)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("方向 1", "方向 2")
    language.use("en")
    assert (
        plot.draw_surface(plot.loss_surface(model, X, y, losses.mse, resolution=4)).get_xlabel()
        == "direction 1"
    )


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_the_demo_and_the_animation_page_speak_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib.pyplot as plt

    said: list[str] = []

    def keep(figure: Figure, path: Path) -> None:
        said.extend(texts(figure))
        plt.close(figure)

    monkeypatch.setattr(examples, "_save_figure", keep)
    monkeypatch.setattr(examples, "backprop_player", lambda *args: None)  # the viz: English
    language.use("zh")
    examples.demo("moons", epochs=2, out=tmp_path, progress=False)
    assert "moons：测试集上的决策边界" in said and "训练损失" in said
    assert not [text for text in said if english_words(text.replace("moons", ""))]
    X, y = moons()
    model = nn.MLP(2, [2, 1], output_activation="sigmoid", seed=0)
    snapshots = plot.Snapshots(X, y, grid=4)
    train.fit(model, X, y, losses.binary_cross_entropy, optim.SGD(model, lr=0.1), 1,
              progress=False, callbacks=[snapshots])  # fmt: skip
    [page] = plot.save_animation(snapshots, tmp_path / "learning.html")
    head = page.read_text(encoding="utf-8")[:200]
    assert '<html lang="zh">' in head and "<title>一步步看训练</title>" in head


@pytest.mark.parametrize("name", FIGURES)
def test_chinese_figures_draw_their_characters_with_a_chinese_font(name: str) -> None:
    """Drawn with the notebooks' set-up: a character missing from the font would be a warning
    (an error in these tests), drawn as an empty box."""
    from conftest import need_font

    need_font("zh")
    with matplotlib.rc_context():
        lessons.setup("zh")
        figure = FIGURES[name]()
        picture = io.BytesIO()
        figure.savefig(picture, format="png")
    assert picture.getvalue().startswith(b"\x89PNG")

"""GIFs and png frames that scale: a pixel budget for every frame, captions that wrap, one
frame per step, refusals before anything is written, and Chinese text drawn with real glyphs."""

from __future__ import annotations

import importlib
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import need, need_font
from hypothesis import given, settings
from hypothesis import strategies as st

from microgradx import Value, losses, nn, viz
from microgradx.viz.player import CAPTION_LINES, GIF_MAX_STEPS, GIF_PIXELS, GIF_WIDTH

player = importlib.import_module("microgradx.viz.player")  # viz.player is the function

Image = pytest.importorskip("PIL.Image")
ImageChops = pytest.importorskip("PIL.ImageChops")
ImageDraw = pytest.importorskip("PIL.ImageDraw")


def mlp_loss() -> Value:
    """One example through MLP(2, [4, 4, 1]) and its squared error."""
    model = nn.MLP(2, [4, 4, 1], seed=0)
    return losses.mse(model([0.5, -1.0]), 1.0)


def gif_frames(path: Path) -> list[Any]:
    """Every frame of a GIF as Pillow shows it (the changed parts laid over the frame before)."""
    with Image.open(path) as gif:
        found = []
        for i in range(gif.n_frames):
            gif.seek(i)
            found.append(gif.convert("RGB"))
        return found


@pytest.mark.parametrize("collapse", ["neuron", None])
def test_an_mlp_gif_has_a_frame_per_step_within_the_pixel_budget(
    tmp_path: Path, collapse: str | None
) -> None:
    need("dot")
    loss = mlp_loss()
    steps = viz.backprop_steps(loss, collapse=collapse)
    viz.save_gif(loss, tmp_path / "mlp.gif", collapse=collapse)
    shown = gif_frames(tmp_path / "mlp.gif")
    assert len(shown) == len(steps)
    width, height = shown[0].size
    assert width <= GIF_WIDTH and width * height <= GIF_PIXELS
    for i in range(1, len(steps)):  # every step has its own caption: every frame changes
        assert steps[i].caption != steps[i - 1].caption
        assert ImageChops.difference(shown[i], shown[i - 1]).getbbox() is not None
    assert list(tmp_path.iterdir()) == [tmp_path / "mlp.gif"]  # no temporary file left


def test_a_huge_label_stays_within_the_pixel_budget(tmp_path: Path) -> None:
    need("dot")
    y = Value(0.5, label="x" * 2000)  # one 2,000-character label on a 41-node chain
    for i in range(20):
        y = y * (1.0 + i / 100)
    assert len(viz.backprop_steps(y)) == 21
    viz.save_gif(y, tmp_path / "chain.gif", fps=5)
    shown = gif_frames(tmp_path / "chain.gif")
    assert len(shown) == 21
    width, height = shown[0].size
    assert width <= GIF_WIDTH and width * height <= GIF_PIXELS
    pngs = viz.save_frames(y, tmp_path / "png", format="png")
    for path in pngs[:: len(pngs) - 1]:
        with Image.open(path) as frame:
            assert frame.width <= GIF_WIDTH and frame.width * frame.height <= GIF_PIXELS


@pytest.mark.parametrize(
    "fps", [0, -1, 0.0, 51, float("nan"), float("inf"), 1e-9, 0.0099, 1e308, "2", True, None]
)
def test_a_bad_fps_is_refused_and_nothing_is_written(tmp_path: Path, fps: Any) -> None:
    with pytest.raises(ValueError, match=r"fps must be a number from 0\.01 .* to 50 .*got"):
        viz.save_gif(Value(2.0) * 3, tmp_path / "bad.gif", fps=fps)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=5, deadline=None)
@given(st.one_of(st.sampled_from([0.01, 50]), st.floats(0.01, 50)))
def test_every_fps_in_range_sets_the_frame_delay(tmp_path_factory: Any, fps: float) -> None:
    need("dot")
    path = tmp_path_factory.mktemp("fps") / "steps.gif"
    viz.save_gif(Value(2.0, label="x") * 3, path, fps=fps)
    with Image.open(path) as gif:  # GIF delays are whole hundredths of a second
        assert abs(gif.info["duration"] - 1000 / fps) < 10


def test_too_many_steps_for_a_gif_are_refused_up_front(tmp_path: Path) -> None:
    y = Value(1.0, label="x")
    for i in range(GIF_MAX_STEPS):  # a step per addition, and the first
        y = y + float(i)
    with pytest.raises(ValueError, match=r"more than a GIF holds.*collapse='neuron'.*save_html"):
        viz.save_gif(y, tmp_path / "long.gif", max_nodes=4 * GIF_MAX_STEPS)
    with pytest.raises(ValueError, match="more than max_nodes"):
        viz.save_gif(y, tmp_path / "long.gif")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_draw_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("dot")

    def fail(source: str, format: str, dpi: float | None) -> bytes:
        raise RuntimeError("dot failed")

    monkeypatch.setattr(player, "_render", fail)
    with pytest.raises(RuntimeError, match="dot failed"):
        viz.save_gif(Value(2.0) * 3, tmp_path / "half.gif")
    assert list(tmp_path.iterdir()) == []


@given(
    st.lists(
        st.text(st.sampled_from("ab ∂×损失  xyz1234567890"), max_size=300), min_size=1, max_size=20
    ),
    st.integers(40, 600),
)
def test_captions_wrap_to_the_width_and_are_cut_with_an_ellipsis(
    lines: list[str], width: int
) -> None:
    font = player._font("损失")
    shown = player._caption("\n".join(lines), font, width)
    assert 1 <= len(shown) <= CAPTION_LINES
    assert all(font.getlength(line) <= width for line in shown)
    everything = "".join("\n".join(lines).split())
    if shown[-1].endswith(" …"):
        assert everything.startswith("".join("".join(shown)[:-1].split()))
    else:
        assert "".join("".join(shown).split()) == everything  # nothing lost, only wrapped


def is_box(image: Any) -> bool:
    """Whether the ink in image is a box (a missing glyph: pango's hex box, a font's .notdef):
    the ink's bounding box has inked edges, where a Chinese character's strokes do not."""
    ink = image.convert("L").point(lambda v: 255 if v < 128 else 0)
    left, top, right, bottom = ink.getbbox()
    rows = [ink.getpixel((x, top)) for x in range(left, right)]
    columns = [ink.getpixel((left, y)) for y in range(top, bottom)]
    return sum(rows) > 0.8 * 255 * len(rows) and sum(columns) > 0.8 * 255 * len(columns)


def drawn_by_dot(text: str, font: str) -> Any:
    source = (
        f'digraph {{ node [shape=plaintext, fontsize=40, fontname="{font}"]; a [label="{text}"] }}'
    )
    png = subprocess.run(["dot", "-Tpng"], input=source.encode(), capture_output=True, check=True)
    return Image.open(io.BytesIO(png.stdout)).convert("RGB")


@pytest.mark.parametrize("font", ["Helvetica", player.MONOSPACE])  # the scene's two fonts
def test_dot_draws_chinese_labels_with_real_glyphs(font: str) -> None:
    need("dot")
    need_font("zh")
    assert is_box(drawn_by_dot("\U0010fffd", font))  # no font has it: the check sees a box
    loss, lost = drawn_by_dot("损", font), drawn_by_dot("失", font)
    assert not is_box(loss) and not is_box(lost)
    assert loss.size != lost.size or ImageChops.difference(loss, lost).getbbox() is not None


def drawn_by_pillow(text: str, font: Any) -> Any:
    image = Image.new("RGB", (80, 80), "white")
    ImageDraw.Draw(image).text((10, 10), text, fill="black", font=font)
    return image


def test_gif_captions_draw_chinese_with_real_glyphs(tmp_path: Path) -> None:
    need_font("zh")
    plain = player._font("grad")
    if Path(plain.path).name.startswith("DejaVu"):  # DejaVu has no Chinese: two equal boxes
        assert (
            ImageChops.difference(
                drawn_by_pillow("损", plain), drawn_by_pillow("失", plain)
            ).getbbox()
            is None
        )
    font = player._font("损失.grad += 1")
    loss, lost = drawn_by_pillow("损", font), drawn_by_pillow("失", font)
    assert ImageChops.difference(loss, lost).getbbox() is not None
    assert not is_box(loss) and not is_box(lost)
    assert font.getlength("∂×") > 0 and not is_box(drawn_by_pillow("∂", font))


def test_a_graph_with_chinese_labels_makes_a_gif(tmp_path: Path) -> None:
    need("dot")
    x, w = Value(2.0, label="输入"), Value(-3.0, label="权重")
    loss = (x * w).tanh()
    loss.label = "损失"
    viz.save_gif(loss, tmp_path / "中文.gif")
    assert len(gif_frames(tmp_path / "中文.gif")) == len(viz.backprop_steps(loss))

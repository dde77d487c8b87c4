"""The words of the graph pictures speak the language in use: after language.use("zh") the
boxes' fields, details, flags, legends and the steps' captions are Chinese (formulas, numbers,
op symbols and names stay as they are); in English no Chinese is left. Read at draw time."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import need

from microgradx import language, losses, nn, viz
from microgradx.engine import Value
from microgradx.recording import Scope
from microgradx.viz.player import film_data, frames, player_html
from microgradx.viz.scene import FLAG_MEANINGS, FLAG_MEANINGS_ZH, Scene, detail, flag_text, run_dot

CHINESE = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
RULE = re.compile(r"1 if \S+ > 0, else 0")  # the op table's derivative of relu, a formula


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    language.use("en")


def network(collapse: str | None) -> tuple[Value, Scene]:
    """A small MLP's loss (a relu off for its one example, in its first layer), after
    backward()."""
    model = nn.MLP(2, [3, 1], seed=0)
    loss = losses.mse([model([0.5, -1.0])], [1.0])
    loss.backward()
    return loss, Scene(loss, collapse)


def neuron() -> tuple[Value, Scene]:
    out = nn.Neuron(2, "tanh", seed=1)([0.5, -1.0])
    out.backward()
    return out, Scene(out)


def english_words(text: str, scene: Scene) -> list[str]:
    """The English words (4 letters or more) of text outside its names, op symbols, formulas
    and the .grad notation of the captions' chain rule."""
    text = RULE.sub("", text.replace("expand_loss=True", ""))
    names = [*scene.names.values(), *(g.name for g in scene.group_ids)]
    names += [str(n.op) for n in scene.order if n.op is not None]
    names += [g.detail for g in scene.group_ids if g.kind == "loss"]  # its formula
    names += [n.removeprefix(f"{g.name}.") for g in scene.group_ids for n in names]  # own names
    for name in sorted(set(names), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.#]){re.escape(name)}(?![\w#])", "", text)
    return [w for w in ENGLISH_WORD.findall(re.sub(r"\.grad\b", "", text))
            if w not in nn.ACTIVATIONS]  # fmt: skip


def svg_texts(source: str) -> str:
    svg = run_dot(source, "svg").decode()
    return "\n".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg))


CASES = [
    ("neuron", lambda: neuron(), {}),
    ("mlp", lambda: network(None), {"color": "grad"}),
    ("mlp by neuron", lambda: network("neuron"), {"collapse": "neuron", "color": "sign"}),
    ("mlp by layer", lambda: network("layer"), {"collapse": "layer", "color": "grad"}),
]


@pytest.mark.parametrize(("case", "make", "options"), CASES, ids=[c[0] for c in CASES])
def test_the_graph_speaks_chinese(case: str, make: object, options: dict[str, str]) -> None:
    need("dot")
    root, scene = make()  # type: ignore[operator]
    language.use("zh")
    source = viz.to_dot(root, **options)  # type: ignore[arg-type]
    assert "Noto Sans CJK SC" in source  # a font with Chinese glyphs for dot
    shown = svg_texts(source)
    assert "数据" in shown and "梯度" in shown, shown
    assert english_words(shown, scene) == [], shown
    if "color" in options:
        assert "颜色" in shown  # the legend's title
    if options.get("collapse"):
        assert "神经元" in shown and "参数" in shown
    if case == "mlp by neuron":
        assert "未激活的 relu" in shown and "标记" in shown
    language.use("en")
    english = viz.to_dot(root, **options)  # type: ignore[arg-type]
    assert not CHINESE.search(english)
    assert "Noto" not in english


@pytest.mark.parametrize("collapse", [None, "neuron", "layer"])
def test_the_captions_speak_chinese(collapse: str | None) -> None:
    loss, scene = network(collapse)
    language.use("zh")
    captions = [
        s.caption for s in viz.backprop_steps(loss, include_forward=True, collapse=collapse)
    ]
    text = "\n".join(captions)
    assert "反向传播开始" in text and "（输入）" in text
    assert english_words(text, scene) == [], text
    if collapse:
        assert "它的参数：" in text and "它的输入：" in text and "计算" in text
    if collapse == "neuron":
        assert "其内部：" in text
    language.use("en")
    english = "\n".join(s.caption for s in viz.backprop_steps(loss, True, collapse))
    assert not CHINESE.search(english) and "backpropagation starts" in english


def test_long_and_batched_captions_speak_chinese() -> None:
    model = nn.MLP(9, [9, 1], seed=0)
    loss = losses.mse([model([0.1] * 9)], [1.0])
    x, w = Value(np.array([1.0, 2.0]), label="x"), Value(3.0, label="w")
    total = (x * w).sum()
    language.use("zh")
    long = "\n".join(s.caption for s in viz.backprop_steps(loss, collapse="layer"))
    assert "… 另外还有" in long and english_words(long, Scene(loss, "layer")) == []
    batched = "\n".join(s.caption for s in viz.backprop_steps(total))
    assert "对批量求和" in batched and "批量 2 个" in batched
    assert english_words(batched, Scene(total)) == [], batched


def test_flags_speak_chinese() -> None:
    language.use("zh")
    assert flag_text("dead relu") == "死亡的 relu"
    assert flag_text("inactive relu") == "未激活的 relu"
    for flag in ("not finite", "exploding", "vanishing"):
        assert CHINESE.search(flag_text(flag)) and not ENGLISH_WORD.search(flag_text(flag))
    assert FLAG_MEANINGS_ZH.keys() == FLAG_MEANINGS.keys()
    for meaning in FLAG_MEANINGS_ZH.values():
        assert not ENGLISH_WORD.search(meaning.replace("inf 或 nan", ""))
    language.use("en")
    assert flag_text("dead relu") == "dead relu" and flag_text("exploding") == "exploding"


def test_every_detail_nn_writes_speaks_chinese() -> None:
    details = {
        "relu neuron, 3 parameters": "relu 神经元，3 个参数",
        "linear neuron, 4 parameters": "线性神经元，4 个参数",
        "3 neurons, 9 parameters": "3 个神经元，9 个参数",
        "3 neurons with batch norm, 15 parameters": "3 个神经元，带批归一化，15 个参数",
        "batch norm of 3 features, 6 parameters": "3 个特征的批归一化，6 个参数",
        "mean((p - t)²)": "mean((p - t)²)",  # a loss's formula stays
    }
    scope = Scope("layers.0", kind="layer")
    for english, chinese in details.items():
        scope.detail = english
        language.use("zh")
        assert detail(scope) == chinese
        language.use("en")
        assert detail(scope) == english
    model = nn.MLP(2, [3, 1], seed=0)  # what nn writes is one of these
    assert model.layers[0].scope.detail in details
    assert model.layers[0].neurons[0].scope.detail in details


def test_the_player_speaks_chinese() -> None:
    loss, scene = network("neuron")
    language.use("zh")
    data = film_data(frames(loss, include_forward=True, collapse="neuron"))
    texts = [*data["start"]["data"].values(), *data["start"]["grads"].values()]
    texts += [*data["start"]["params"].values()]
    for step in data["steps"]:
        texts += [step["caption"], *step["data"].values(), *step["grads"].values()]
        texts += [*step["params"].values()]
    text = "\n".join(texts)
    assert "输出梯度" in text and "w 的梯度" in text
    assert english_words(text, scene) == [], text


def page_text(document: str) -> str:
    """The words a reader of the player's page sees: its text and its buttons' tips, without
    the script, the style, the steps' data and the picture."""
    visible = re.sub(r"<(script|style|svg)\b.*?</\1>", "", document, flags=re.S)
    tips = " ".join(re.findall(r'(?:title|aria-label)="([^"]*)"', visible))
    return html.unescape(re.sub(r"<[^>]+>", " ", visible) + " " + tips)


def test_the_player_page_speaks_the_language_in_use() -> None:
    out, _ = neuron()
    english = player_html(out)
    language.use("zh")
    chinese = player_html(out)
    assert '<html lang="zh">' in chinese and '<html lang="en">' in english
    words = page_text(chinese)
    names = {"Home", "End", *nn.ACTIVATIONS}  # keys as printed on them; the op in the title
    assert "播放" in words and "整张图" in words and "缩小" in words
    assert [w for w in ENGLISH_WORD.findall(words) if w not in names] == []
    assert not CHINESE.search(page_text(english))
    assert "first step (Home)" in english and "yellow: the node being processed" in english


def test_the_players_counter_and_play_button_speak_chinese(browser: object, tmp_path) -> None:
    out, _ = neuron()
    language.use("zh")
    path = tmp_path / "player.html"
    viz.save_html(out, path)
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(path.as_uri())
        counter = page.locator("#counter")
        assert re.fullmatch(r"步骤 0 / \d+", counter.inner_text())
        page.locator("#play").click()
        assert page.locator("#play").inner_text() == "\u23f8 暂停"
        page.locator("#play").click()
        assert page.locator("#play").inner_text() == "\u25b6 播放"
    finally:
        page.close()

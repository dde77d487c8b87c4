// The live widget's view (anywidget; widget.py sends player.js and this file as one module):
// a slider for every input and parameter, and the player on the graph as it is now. A slider
// sets `values` in Python; the engine runs forward and backward; `film` comes back and the
// player rewrites its texts in place (same layout, same step). ▶ play replays the backward pass.
// While training (fit(callbacks=[live])) two panels sit above the graph: the loss curve so far
// (`curve`, an SVG polyline) and the model's output over the input plane (`grid`, on a canvas:
// one colour each side of `threshold`, with the training `points`).

var SVG = "http://www.w3.org/2000/svg";
var SIDES = [[59, 130, 246], [249, 115, 22]];  // below the threshold, above it: blue, orange

function svgNode(name, attributes) {
  var node = document.createElementNS(SVG, name);
  Object.keys(attributes).forEach(function (key) { node.setAttribute(key, String(attributes[key])); });
  return node;
}

// The grid's numbers: a DataView (a binary trait, as ipywidgets sends it), bytes or a list.
function gridNumbers(value) {
  if (!value) { return []; }
  if (Array.isArray(value)) { return value; }
  var view = value instanceof DataView ? value
    : value instanceof ArrayBuffer ? new DataView(value)
    : new DataView(value.buffer, value.byteOffset, value.byteLength);
  var numbers = [];
  for (var i = 0; i + 8 <= view.byteLength; i += 8) { numbers.push(view.getFloat64(i, true)); }
  return numbers;
}

function trainingPanels(model) {
  var panels = document.createElement("div");
  panels.className = "mgx-training";
  panels.style.cssText = "display:flex;gap:16px;align-items:flex-start;margin:4px 0 8px;font:11px sans-serif";
  var W = 260, H = 160, L = 48, B = 18;  // the curve's box, and room for its labels
  var curve = svgNode("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "mgx-curve" });
  curve.setAttribute("role", "img");
  curve.setAttribute("aria-label", "loss curve");
  var frame = svgNode("rect", { x: L, y: 4, width: W - L - 4, height: H - B - 8, fill: "none", stroke: "#999" });
  var line = svgNode("polyline", { fill: "none", stroke: "#d62728", "stroke-width": 1.5, points: "" });
  var top = svgNode("text", { x: L - 4, y: 12, "text-anchor": "end" });
  var bottom = svgNode("text", { x: L - 4, y: H - B - 4, "text-anchor": "end" });
  var first = svgNode("text", { x: L, y: H - 4, "text-anchor": "start" });
  var last = svgNode("text", { x: W - 4, y: H - 4, "text-anchor": "end" });
  var title = svgNode("text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle" });
  title.textContent = (model.get("film").words || {}).curve || "loss by step";
  curve.append(frame, line, top, bottom, first, last, title);

  var S = 160;  // the boundary's canvas, px
  var canvas = document.createElement("canvas");
  canvas.width = S; canvas.height = S; canvas.className = "mgx-boundary";
  canvas.setAttribute("aria-label", "decision boundary");
  canvas.style.border = "1px solid #999";
  panels.append(curve, canvas);

  function drawCurve() {
    var losses = model.get("curve") || [];
    var low = Math.min.apply(null, losses), high = Math.max.apply(null, losses);
    var span = high - low || 1, width = W - L - 8, height = H - B - 16;
    line.setAttribute("points", losses.map(function (loss, i) {
      var x = L + 4 + (losses.length > 1 ? i * width / (losses.length - 1) : 0);
      var y = 8 + (high - loss) * height / span;
      return x.toFixed(1) + "," + y.toFixed(1);
    }).join(" "));
    top.textContent = losses.length ? Number(high).toPrecision(3) : "";
    bottom.textContent = losses.length ? Number(low).toPrecision(3) : "";
    first.textContent = losses.length ? "1" : "";
    last.textContent = losses.length ? String(model.get("steps")) : "";
  }
  function drawBoundary() {
    var n = model.get("grid_size"), outputs = gridNumbers(model.get("grid"));
    var plane = model.get("plane") || [];
    canvas.style.display = plane.length === 4 ? "" : "none";
    if (plane.length !== 4) { return; }
    var context = canvas.getContext("2d"), threshold = model.get("threshold");
    context.clearRect(0, 0, S, S);
    if (n > 0 && outputs.length === n * n) {
      var cell = S / n;
      outputs.forEach(function (output, k) {
        var side = SIDES[output > threshold ? 1 : 0];
        context.fillStyle = "rgba(" + side.join(",") + ",0.35)";
        context.fillRect(Math.floor((k % n) * cell), Math.floor(Math.floor(k / n) * cell),
          Math.ceil(cell), Math.ceil(cell));
      });
    }
    (model.get("points") || []).forEach(function (point) {
      var x = (point[0] - plane[0]) / (plane[1] - plane[0]) * S;
      var y = (plane[3] - point[1]) / (plane[3] - plane[2]) * S;
      context.beginPath();
      context.arc(x, y, 2.5, 0, 2 * Math.PI);
      context.fillStyle = "rgb(" + SIDES[point[2] ? 1 : 0].join(",") + ")";
      context.fill();
      context.strokeStyle = "#222"; context.lineWidth = 0.5; context.stroke();
    });
  }
  function draw() {
    panels.hidden = !model.get("training");
    panels.style.display = panels.hidden ? "none" : "flex";
    drawCurve();
    drawBoundary();
  }
  return { el: panels, draw: draw };
}

function render({ model, el }) {
  el.classList.add("mgx-player", "mgx-live");
  el.tabIndex = 0;  // keys reach the player only while it has the focus
  el.style.setProperty("--mgx-height", model.get("height") + "px");
  var sliders = document.createElement("div"), error = document.createElement("div");
  sliders.className = "mgx-inputs"; error.className = "mgx-error";
  var view = document.createElement("template");
  view.innerHTML = model.get("view");  // player.py's markup: its controls and dot's picture
  var panels = trainingPanels(model);
  el.replaceChildren(panels.el, sliders, error, view.content);
  panels.draw();
  var traits = ["training", "curve", "steps", "grid", "grid_size", "plane", "points", "threshold"];
  var drawing = 0;  // one drawing a frame, however many of the traits changed together
  function redraw() {
    if (!drawing) { drawing = requestAnimationFrame(function () { drawing = 0; panels.draw(); }); }
  }
  traits.forEach(function (name) { model.on("change:" + name, redraw); });

  var ranges = {}, outputs = {};
  function shown(x) { return Number(x).toPrecision(4); }
  model.get("inputs").forEach(function (input) {
    var row = document.createElement("label"), name = document.createElement("span");
    var range = document.createElement("input"), value = document.createElement("output");
    row.className = "mgx-input";
    name.textContent = input.name;
    range.type = "range"; range.min = String(input.low); range.max = String(input.high);
    range.step = String(input.step); range.setAttribute("aria-label", input.name);
    range.dataset.name = input.name;
    range.value = String(model.get("values")[input.name]);
    value.textContent = shown(model.get("values")[input.name]);
    ranges[input.name] = range; outputs[input.name] = value;
    row.append(name, range, value);
    sliders.appendChild(row);
  });
  // Moves are sent at most once a frame: Python answers each with a new film.
  var pending = {}, queued = 0;
  function send() {
    queued = 0;
    model.set("values", Object.assign({}, model.get("values"), pending));
    model.save_changes();
    pending = {};
  }
  sliders.addEventListener("input", function (event) {
    var name = event.target.dataset.name;
    if (!name) { return; }
    pending[name] = Number(event.target.value);
    outputs[name].textContent = shown(event.target.value);
    if (!queued) { queued = requestAnimationFrame(send); }
  });

  var film = model.get("film");
  var player = mount(el, film, { step: film.steps.length - 1 });  // every gradient known
  function onFilm() { player.update(model.get("film")); }
  function onValues() {
    var values = model.get("values");
    Object.keys(values).forEach(function (name) {
      if (ranges[name] && pending[name] === undefined) {
        ranges[name].value = String(values[name]);
        outputs[name].textContent = shown(values[name]);
      }
    });
  }
  function onError() { error.textContent = model.get("error"); }
  onError();
  model.on("change:film", onFilm);
  model.on("change:values", onValues);
  model.on("change:error", onError);
  return function () {
    cancelAnimationFrame(queued);
    model.off("change:film", onFilm);
    model.off("change:values", onValues);
    model.off("change:error", onError);
    cancelAnimationFrame(drawing);
    traits.forEach(function (name) { model.off("change:" + name, redraw); });
    player.destroy();
  };
}

export default { render };

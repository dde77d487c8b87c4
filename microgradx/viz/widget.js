// The live widget's view (anywidget; widget.py sends player.js and this file as one module):
// a slider for every input and parameter, and the player on the graph as it is now. A slider
// sets `values` in Python; the engine runs forward and backward; `film` comes back and the
// player rewrites its texts in place (same layout, same step). ▶ play replays the backward pass.

function render({ model, el }) {
  el.classList.add("mgx-player", "mgx-live");
  el.tabIndex = 0;  // keys reach the player only while it has the focus
  el.style.setProperty("--mgx-height", model.get("height") + "px");
  var sliders = document.createElement("div"), error = document.createElement("div");
  sliders.className = "mgx-inputs"; error.className = "mgx-error";
  var view = document.createElement("template");
  view.innerHTML = model.get("view");  // player.py's markup: its controls and dot's picture
  el.replaceChildren(sliders, error, view.content);

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
    player.destroy();
  };
}

export default { render };

// The step-by-step player: one module for the offline page (player.html inlines it) and for
// the live widget in a notebook (widget.py sends it as the widget's module).
//
//     const player = mount(root, film);   // root holds view.html's markup and dot's picture
//     player.update(film);                // new texts for the same layout (the live widget, widget.py)
//     player.show(k); player.destroy();
//
// Everything is scoped to root: elements are looked up inside it (two players on one page, or
// two views of one widget, never touch each other), keys are heard only while focus is inside
// it (a notebook keeps its shortcuts), and every text is set with textContent, never as markup.
// film: {start: {data, grads, params, slots}, steps: [{kind, node, edges, caption, data, grads,
// params, receiving, accumulated}]}, texts by box id (player.py's player_html writes it).

var DONE = "#e3f1e3", RECEIVING = "#dbe9f6", CURRENT = "#fff3b0", PLAIN = "#ffffff";
var NATURAL = 96 / 72;  // screen px per pt: the picture at the size dot drew it
var LEGIBLE = 0.6;      // below this fraction of dot's size, the text is too small to read
var LARGEST_FIT = 1.5;  // a small graph is fitted to at most 1.5 times dot's size
var CLOSEST = 4;        // zooming in stops at 4 times dot's size
var MARGIN = 10;        // px between a fitted picture and the frame's edges
var DURATION = 300;     // ms of a smooth move
var SVG = "http://www.w3.org/2000/svg";

export function mount(root, film, options) {
  options = options || {};
  // root's own elements by id (ids repeat from one player to the next, so never document's)
  function part(id) { return root.querySelector('[id="' + id + '"]'); }
  var frame = part("graph"), svg = frame.querySelector("svg");
  var drawing = svg.querySelector("g");
  var byId = {};  // the picture's boxes and arrows by id, found once: the layout never changes
  Array.prototype.forEach.call(drawing.querySelectorAll("[id]"), function (e) { byId[e.id] = e; });
  var steps = film.steps, last = steps.length - 1, current = 0, timer = null;
  var slots = film.start.slots || {};
  var words = film.words || { step: "step", play: "play", pause: "pause" };  // the page's language
  var slider = part("slider"), caption = part("caption"), counter = part("counter");
  var playButton = part("play");
  slider.max = String(last);
  var cleanups = [];  // what destroy() undoes: listeners outside root, timers, observers
  function listen(target, type, handler, how) {
    target.addEventListener(type, handler, how);
    cleanups.push(function () { target.removeEventListener(type, handler, how); });
  }

  // ---- What each step shows: texts, and the colours that follow from them. ----
  // The page holds the texts of step `shown`; moving forward applies only the steps after it.
  var shown = -1, grads = {}, painted = [], marked = [], mirror = {};
  function box(id) { return byId[id] || null; }
  function setText(id, index, text) {
    var g = box(id), t = g ? g.getElementsByTagName("text")[index] : null;
    if (t) { t.textContent = text; }
  }
  function slot(id, which) { var s = slots[id]; return s ? s[which] : which + 1; }  // data 1, grad 2 (, params)
  function fill(id, colour) {  // in the picture, and in its copy in the overview
    var g = box(id), shape = g ? g.querySelector("path, polygon, ellipse") : null;
    if (shape) { shape.setAttribute("fill", colour); }
    if (mirror[id]) { mirror[id].setAttribute("fill", colour); }
  }
  function settled(id) {  // "grad ?" (a neuron's "out.grad ?"): not known yet
    return grads[id] !== undefined && grads[id].slice(-2) !== " ?" ? DONE : PLAIN;
  }
  function write(data, gradTexts, params) {  // params: a neuron's parameters' gradients
    Object.keys(data).forEach(function (id) { setText(id, slot(id, 0), data[id]); });
    Object.keys(params || {}).forEach(function (id) {
      setText(id, slot(id, 2), params[id]);
      if (slot(id, 1) === null) {  // a layer: known once its parameters' gradients are
        grads[id] = params[id].indexOf("?") < 0 ? "known" : "grad ?";
        fill(id, settled(id));
      }
    });
    Object.keys(gradTexts).forEach(function (id) {
      grads[id] = gradTexts[id];
      setText(id, slot(id, 1), gradTexts[id]);
      fill(id, settled(id));
    });
  }
  function restart() { grads = {}; write(film.start.data, film.start.grads, film.start.params); shown = -1; }
  function unmark() {
    painted.forEach(function (id) { fill(id, settled(id)); });
    marked.forEach(function (e) { e.classList.remove("current", "accumulated", "active"); });
    painted = []; marked = [];
  }
  function mark(step) {
    function classed(id, name) { var e = box(id); if (e) { e.classList.add(name); marked.push(e); } }
    step.receiving.forEach(function (id) { fill(id, RECEIVING); painted.push(id); });
    fill(step.node, CURRENT); painted.push(step.node);
    classed(step.node, "current");
    step.accumulated.forEach(function (id) { classed(id, "accumulated"); });
    step.edges.forEach(function (id) { classed(id, "active"); });
  }
  function show(k) {
    var wanted = Math.max(0, Math.min(last, k));
    unmark();
    if (wanted < shown) { restart(); }  // backwards: rebuild from the start
    while (shown < wanted) { shown += 1; write(steps[shown].data, steps[shown].grads, steps[shown].params); }
    current = wanted;
    mark(steps[current]);
    caption.textContent = steps[current].caption;
    counter.textContent = words.step + " " + current + " / " + last;
    slider.value = String(current);
    follow(steps[current]);
    placeOverview();
  }
  // The caption keeps the height of the longest one, so that the frame below it does not change
  // size from step to step; in a short window (a notebook cell) it keeps fewer lines and scrolls.
  var lines = 2;
  function sizeCaption() {
    lines = steps.reduce(function (most, s) { return Math.max(most, s.caption.split("\n").length); }, 2);
    var room = Math.max(2, Math.floor(window.innerHeight / 130));
    caption.style.height = (Math.min(lines, room) * 1.35) + "em";
  }
  sizeCaption();
  listen(window, "resize", sizeCaption);

  // ---- The view: the part of the picture the frame shows, as a centre and a scale. ----
  // scale is screen px per unit of the picture (dot's pt); the svg's viewBox follows from it.
  var given = svg.viewBox.baseVal;
  var picture = given && given.width ? { x: given.x, y: given.y, w: given.width, h: given.height }
                                     : (function (b) { return { x: b.x, y: b.y, w: b.width, h: b.height }; }(svg.getBBox()));
  var placed = drawing.transform.baseVal.consolidate();  // dot's translate on its first <g>
  var toPicture = placed ? placed.matrix : svg.createSVGMatrix();
  var size = { w: 0, h: 0 }, view = null, goal = null, fitted = true, animation = 0, dragging = null;
  var stillness = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");

  function clamp(x, low, high) { return Math.max(low, Math.min(high, x)); }
  function fitScale() {
    var s = Math.min((size.w - 2 * MARGIN) / picture.w, (size.h - 2 * MARGIN) / picture.h);
    return Math.max(Math.min(s, LARGEST_FIT * NATURAL), 1e-3);
  }
  function closest() { return Math.max(fitScale(), CLOSEST * NATURAL); }
  function legible() { return fitScale() / NATURAL >= LEGIBLE; }
  function fit() { return { cx: picture.x + picture.w / 2, cy: picture.y + picture.h / 2, scale: fitScale() }; }
  function seen(v) {  // the rectangle of the picture that view v shows
    var w = size.w / v.scale, h = size.h / v.scale;
    return { x: v.cx - w / 2, y: v.cy - h / 2, w: w, h: h };
  }
  function at(v, px, py) { return { x: v.cx + (px - size.w / 2) / v.scale, y: v.cy + (py - size.h / 2) / v.scale }; }
  function draw(v) {
    var r = seen(v);
    view = v;
    svg.setAttribute("viewBox", [r.x, r.y, r.w, r.h].join(" "));
    drawOverview();
  }
  function moveTo(v, smoothly) {  // draw v, at once or in DURATION ms
    cancelAnimationFrame(animation); animation = 0;
    goal = v;
    if (!smoothly || !view || (stillness && stillness.matches)) { draw(v); placeOverview(); return; }
    var from = view, began = null;
    // The centre and 1/scale (the width seen) change linearly, so a point zoomed about stays put.
    function tick(time) {
      if (began === null) { began = time; }
      var t = Math.min(1, (time - began) / DURATION), e = t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t);
      draw({ cx: from.cx + (v.cx - from.cx) * e, cy: from.cy + (v.cy - from.cy) * e,
             scale: 1 / (1 / from.scale + (1 / v.scale - 1 / from.scale) * e) });
      animation = t < 1 ? requestAnimationFrame(tick) : 0;
    }
    animation = requestAnimationFrame(tick);
    placeOverview();
  }
  function go(v, smoothly) {  // any view but the fitted one: its centre stays on the picture
    fitted = false;
    moveTo({ cx: clamp(v.cx, picture.x, picture.x + picture.w), cy: clamp(v.cy, picture.y, picture.y + picture.h),
             scale: clamp(v.scale, fitScale(), closest()) }, smoothly);
  }
  function refit(smoothly) { fitted = true; if (size.w) { moveTo(fit(), smoothly); } }
  function zoomAbout(factor, px, py, smoothly) {  // the picture's point at (px, py) stays there
    if (!goal) { return; }
    var p = at(goal, px, py), s = clamp(goal.scale * factor, fitScale(), closest());
    if (s <= fitScale() * 1.0001) { refit(smoothly); return; }
    go({ cx: p.x - (px - size.w / 2) / s, cy: p.y - (py - size.h / 2) / s, scale: s }, smoothly);
  }
  // Every box's rectangle in the picture's units, measured once: the layout never changes, and
  // measuring after a step's changes would make the browser lay the picture out again. (A view
  // not on screen yet, as a notebook's output may be, measures when it first gets a size.)
  var boxes = null;
  function measure() {
    boxes = {};
    Array.prototype.forEach.call(drawing.querySelectorAll(".node"), function (e) {
      var b = e.getBBox(), m = toPicture;
      boxes[e.id] = { x: m.a * b.x + m.e, y: m.d * b.y + m.f, w: m.a * b.width, h: m.d * b.height };
    });
  }
  function where(id) { return (boxes && boxes[id]) || null; }
  function union(a, b) {
    var x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
    return { x: x, y: y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
  }
  function focus() {  // where + and − zoom about: the yellow node when it is in view, else the centre
    var b = where(steps[current].node);
    if (b) {
      var px = (b.x + b.w / 2 - goal.cx) * goal.scale + size.w / 2, py = (b.y + b.h / 2 - goal.cy) * goal.scale + size.h / 2;
      if (px >= 0 && px <= size.w && py >= 0 && py <= size.h) { return { x: px, y: py }; }
    }
    return { x: size.w / 2, y: size.h / 2 };
  }
  function zoom(factor) { if (goal) { var p = focus(); zoomAbout(factor, p.x, p.y, true); } }
  function follow(step) {
    // Fitted, the whole graph is in view: nothing moves. Zoomed in, pan (never zoom) so that the
    // node (with its op, when both fit), and the boxes receiving gradient where they fit too, are
    // inside the frame.
    if (fitted || dragging || !goal) { return; }
    var node = where(step.node); if (!node) { return; }
    var r = seen(goal), pad = 24 / goal.scale;
    var op = /^v/.test(step.node) ? where("o" + step.node.slice(1)) : null;  // where its arrows meet
    var withOp = op ? union(node, op) : node;
    if (withOp.w + 2 * pad <= r.w && withOp.h + 2 * pad <= r.h) { node = withOp; }
    var all = step.receiving.reduce(function (u, id) { var b = where(id); return b ? union(u, b) : u; }, node);
    function pan(start, length, low, extent, allLow, allExtent) {  // along one axis
      var room = length - 2 * pad;
      if (extent > room) { return low + extent / 2 - length / 2; }  // the node alone: centred
      if (allExtent > room) {  // not all of them: the node, and as many as fit on their side
        var towards = allLow + allExtent / 2 > low + extent / 2;
        low = towards ? low : low + extent - room;
        extent = room;
      } else { low = allLow; extent = allExtent; }
      if (low - pad < start) { return low - pad; }
      if (low + extent + pad > start + length) { return low + extent + pad - length; }
      return start;
    }
    var x = pan(r.x, r.w, node.x, node.w, all.x, all.w), y = pan(r.y, r.h, node.y, node.h, all.y, all.h);
    if (x !== r.x || y !== r.y) { go({ cx: x + r.w / 2, cy: y + r.h / 2, scale: goal.scale }, true); }
  }
  function resized() {
    var w = frame.clientWidth, h = frame.clientHeight;
    if (!w || !h) { return; }
    if (!boxes) { measure(); }
    size = { w: w, h: h };
    sizeOverview();
    if (fitted || !goal) { refit(false); } else { go(goal, false); }  // zoomed: same centre and scale
  }

  // ---- The overview (minimap): a copy of the picture, and the rectangle in view. ----
  // The copy keeps the shapes and arrows but no text (too small to read there), ids or classes;
  // fill() colours its boxes with the picture's. A live <use> would be copied anew after every
  // step, which takes long for a big graph.
  var minimap = part("minimap");
  var overview = document.createElementNS(SVG, "svg"), copy = drawing.cloneNode(true);
  var frameShown = document.createElementNS(SVG, "rect"), here = document.createElementNS(SVG, "circle");
  var overviewChoice = null, mapScale = 1, mapSize = { w: 0, h: 0 }, steering = null;
  Array.prototype.forEach.call(copy.querySelectorAll("text, title"), function (e) { e.parentNode.removeChild(e); });
  Array.prototype.forEach.call(copy.querySelectorAll("[id]"), function (e) {
    if (e.classList.contains("node")) { mirror[e.id] = e.querySelector("path, polygon, ellipse"); }
    e.removeAttribute("id"); e.removeAttribute("class");
  });
  copy.removeAttribute("id"); copy.removeAttribute("class");
  copy.setAttribute("pointer-events", "none");
  overview.setAttribute("viewBox", [picture.x, picture.y, picture.w, picture.h].join(" "));
  frameShown.id = "seen";
  here.id = "here";
  overview.appendChild(copy); overview.appendChild(frameShown); overview.appendChild(here);
  minimap.appendChild(overview);
  function overviewWanted() {  // when the fitted graph is too small to read, or zoomed in; m decides
    return overviewChoice !== null ? overviewChoice : !fitted || !legible();
  }
  function sizeOverview() {
    var k = Math.min(Math.min(220, size.w * 0.3) / picture.w, Math.min(160, size.h * 0.3) / picture.h);
    mapSize = { w: Math.max(picture.w * k, 40), h: Math.max(picture.h * k, 30) };
    mapScale = Math.min(mapSize.w / picture.w, mapSize.h / picture.h);
    overview.setAttribute("width", String(mapSize.w));
    overview.setAttribute("height", String(mapSize.h));
  }
  function drawOverview() {
    var on = overviewWanted() && size.w > 0;
    if (minimap.hidden === on) { minimap.hidden = !on; }
    if (!on || !view) { return; }
    var r = seen(view), b = where(steps[current].node);
    frameShown.setAttribute("x", String(r.x)); frameShown.setAttribute("y", String(r.y));
    frameShown.setAttribute("width", String(r.w)); frameShown.setAttribute("height", String(r.h));
    if (b) {
      here.setAttribute("cx", String(b.x + b.w / 2)); here.setAttribute("cy", String(b.y + b.h / 2));
      here.setAttribute("r", String(4 / mapScale));
    }
  }
  function placeOverview() {
    // In the first corner (bottom right, bottom left, top right, top left) that leaves the yellow
    // node uncovered in the view being moved to.
    var b = where(steps[current].node);
    drawOverview();
    if (!goal || steering !== null) { return; }
    var w = mapSize.w + 18, h = mapSize.h + 18, node = null;  // 8 px margin, border, shadow
    if (b) {
      node = { x: (b.x - goal.cx) * goal.scale + size.w / 2, y: (b.y - goal.cy) * goal.scale + size.h / 2,
               w: b.w * goal.scale, h: b.h * goal.scale };
    }
    var corners = [[false, false], [true, false], [false, true], [true, true]];  // [left?, top?]
    var chosen = corners.filter(function (c) {
      if (!node) { return true; }
      var x = c[0] ? 0 : size.w - w, y = c[1] ? 0 : size.h - h;
      return node.x + node.w < x || node.x > x + w || node.y + node.h < y || node.y > y + h;
    })[0] || corners[0];
    minimap.style.left = chosen[0] ? "0" : ""; minimap.style.right = chosen[0] ? "" : "0";
    minimap.style.top = chosen[1] ? "0" : ""; minimap.style.bottom = chosen[1] ? "" : "0";
  }
  function onOverview(event) {  // the picture's point under the pointer in the overview
    var p = overview.createSVGPoint();
    p.x = event.clientX; p.y = event.clientY;
    return p.matrixTransform(overview.getScreenCTM().inverse());
  }
  minimap.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || !goal) { return; }
    event.preventDefault(); event.stopPropagation();
    minimap.setPointerCapture(event.pointerId);
    steering = event.pointerId;
    var p = onOverview(event), s = goal.scale;
    if (fitted && !legible()) { s = NATURAL; }  // from a picture too small to read: go there, readable
    go({ cx: p.x, cy: p.y, scale: s }, true);
  });
  minimap.addEventListener("pointermove", function (event) {
    if (event.pointerId !== steering) { return; }
    var p = onOverview(event);
    go({ cx: p.x, cy: p.y, scale: goal.scale }, false);
  });
  function letGo(event) { if (event.pointerId === steering) { steering = null; placeOverview(); } }
  minimap.addEventListener("pointerup", letGo);
  minimap.addEventListener("pointercancel", letGo);

  // ---- Moving the view with the mouse: drag to pan, wheel to zoom about the pointer. ----
  function inFrame(event) {
    var r = frame.getBoundingClientRect();
    return { x: event.clientX - r.left - frame.clientLeft, y: event.clientY - r.top - frame.clientTop };
  }
  frame.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || !view || minimap.contains(event.target)) { return; }
    dragging = { id: event.pointerId, x: event.clientX, y: event.clientY, from: view, moved: false };
    frame.setPointerCapture(event.pointerId);
    frame.classList.add("dragging");
  });
  frame.addEventListener("pointermove", function (event) {
    if (!dragging || event.pointerId !== dragging.id) { return; }
    var dx = event.clientX - dragging.x, dy = event.clientY - dragging.y, from = dragging.from;
    if (!dragging.moved && Math.abs(dx) + Math.abs(dy) < 3) { return; }  // a click is not a drag
    dragging.moved = true;
    go({ cx: from.cx - dx / from.scale, cy: from.cy - dy / from.scale, scale: from.scale }, false);
  });
  function drop(event) {
    if (dragging && event.pointerId === dragging.id) { dragging = null; frame.classList.remove("dragging"); }
  }
  frame.addEventListener("pointerup", drop);
  frame.addEventListener("pointercancel", drop);
  frame.addEventListener("wheel", function (event) {
    var delta = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? size.h : 1);
    if (delta > 0 && fitted) { return; }  // the whole graph is in view already: let the page scroll
    event.preventDefault();
    var p = inFrame(event);
    zoomAbout(Math.exp(-delta * 0.002), p.x, p.y, false);
  }, { passive: false });

  // ---- Buttons and keys. ----
  function stop() { if (timer) { clearInterval(timer); timer = null; playButton.textContent = "\u25B6 " + words.play; } }
  function play() {
    if (timer) { stop(); return; }
    if (current === last) { show(0); }
    playButton.textContent = "\u23F8 " + words.pause;
    timer = setInterval(function () { if (current >= last) { play(); } else { show(current + 1); } }, 900);
  }
  function toggleOverview() { overviewChoice = !overviewWanted(); drawOverview(); placeOverview(); }
  part("first").onclick = function () { show(0); };
  part("prev").onclick = function () { show(current - 1); };
  part("next").onclick = function () { show(current + 1); };
  part("last").onclick = function () { show(last); };
  playButton.onclick = play;
  part("zoom-in").onclick = function () { zoom(1.5); };
  part("zoom-out").onclick = function () { zoom(1 / 1.5); };
  part("fit").onclick = function () { refit(true); };
  slider.oninput = function () { show(parseInt(slider.value, 10)); };
  var sliderKeys = { ArrowLeft: 1, ArrowRight: 1, ArrowUp: 1, ArrowDown: 1, Home: 1, End: 1, PageUp: 1, PageDown: 1 };
  var keys = { ArrowLeft: function () { show(current - 1); }, ArrowRight: function () { show(current + 1); },
               Home: function () { show(0); }, End: function () { show(last); }, " ": play,
               "+": function () { zoom(1.5); }, "=": function () { zoom(1.5); },
               "-": function () { zoom(1 / 1.5); }, "\u2212": function () { zoom(1 / 1.5); },
               "0": function () { refit(true); }, f: function () { refit(true); }, m: toggleOverview };
  // Keys reach the player only from inside root (the page's body, or a widget that has the focus),
  // never from the rest of a notebook; nor from a text field or another slider inside root.
  root.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }  // the browser's own zoom and keys
    if (event.target === slider && sliderKeys[event.key]) { return; }  // the slider moves itself
    var typing = event.target !== slider && event.target.closest && event.target.closest("input, textarea, select");
    if (typing) { return; }  // an input of the widget's own: its keys are its own
    if (keys[event.key]) { event.preventDefault(); event.stopPropagation(); keys[event.key](); }
  });

  restart();
  resized();
  show(Math.min(options.step === undefined ? 0 : options.step, last));
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(resized);
    observer.observe(frame);
    cleanups.push(function () { observer.disconnect(); });
  } else { listen(window, "resize", resized); }

  return {
    // New texts for the same boxes (the same graph at another point): the step shown stays.
    update: function (next) {
      film = next; steps = film.steps; last = steps.length - 1;
      slots = film.start.slots || slots;
      slider.max = String(last);
      sizeCaption();
      unmark(); restart();
      show(Math.min(current, last));
    },
    show: function (k) { stop(); show(k); },
    last: function () { return last; },
    current: function () { return current; },
    destroy: function () {
      stop(); cancelAnimationFrame(animation);
      cleanups.forEach(function (undo) { undo(); });
    },
  };
}

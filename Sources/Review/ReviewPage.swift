/// The review page: one self-contained HTML file (no network beyond this server), the editor
/// in plain JavaScript on two canvases. Docs/Review.md lists its tools and shortcuts.
enum ReviewPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sootctl review</title>
<style>
:root { --bar: #1f2328; --fg: #e6edf3; --muted: #9da7b3; --accent: #2f81f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px system-ui, sans-serif; background: #0d1117; color: var(--fg); display: grid;
       grid-template-columns: 250px 1fr; grid-template-rows: auto 1fr; height: 100vh; overflow: hidden; }
header { grid-column: 1 / 3; background: var(--bar); padding: 6px 10px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
header .group { display: flex; gap: 4px; align-items: center; padding-right: 10px; border-right: 1px solid #30363d; }
button { background: #21262d; color: var(--fg); border: 1px solid #30363d; border-radius: 5px; padding: 4px 9px; cursor: pointer; }
button.active { background: var(--accent); border-color: var(--accent); }
button:disabled { opacity: .4; cursor: default; }
label { color: var(--muted); }
input[type=range] { width: 120px; vertical-align: middle; }
#list { background: #161b22; overflow-y: auto; border-right: 1px solid #30363d; }
#list div { padding: 6px 10px; cursor: pointer; border-bottom: 1px solid #21262d; display: flex; justify-content: space-between; }
#list div.current { background: #1f6feb33; }
.status { font-size: 12px; padding: 0 6px; border-radius: 8px; }
.status.unreviewed { background: #30363d; } .status.edited { background: #9e6a03; } .status.accepted { background: #238636; }
#view { position: relative; overflow: hidden; background: #010409; cursor: crosshair; }
#stage { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
#stage canvas { position: absolute; left: 0; top: 0; image-rendering: pixelated; }
#rect { position: absolute; border: 1px dashed #58a6ff; pointer-events: none; display: none; }
#scalebar { position: absolute; left: 16px; bottom: 16px; color: #fff; text-shadow: 0 0 3px #000; pointer-events: none; }
#scalebar div { height: 6px; background: #fff; box-shadow: 0 0 3px #000; margin-bottom: 3px; }
#message { position: absolute; right: 12px; bottom: 12px; background: #161b22cc; padding: 4px 8px; border-radius: 4px; }
#help { color: var(--muted); font-size: 12px; padding: 8px 10px; }
</style></head>
<body>
<header>
  <div class="group"><button id="prev" title="previous image (P)">&#9664;</button><span id="title">-</span><button id="next" title="next image (N)">&#9654;</button></div>
  <div class="group">
    <button data-tool="slider" title="slider: drag a rectangle (S)">Slider</button>
    <button data-tool="brush" title="brush (B)">Brush</button>
    <button data-tool="eraser" title="eraser (E)">Eraser</button>
    <button data-tool="remove" title="remove the clicked aggregate (R)">Remove</button>
    <button data-tool="pan" title="pan (H, or hold space)">Pan</button>
    <button id="fill" title="fill holes (F)">Fill holes</button>
  </div>
  <div class="group"><label>size <input id="brush" type="number" min="1" max="2000" value="20" style="width:60px"> nm</label></div>
  <div class="group" id="slidergroup">
    <label>smoothing σ <input id="sigma" type="range" min="0" max="10" step="0.5" value="2"></label><span id="sigmaval">2</span> px
    <label>threshold <input id="threshold" type="range" min="0" max="1" step="0.005" value="0.5"></label><span id="thresholdval">-</span>
    <button id="apply" title="add the slider's result (Enter)">Add</button><button id="replace" title="replace the rectangle with the slider's result">Replace</button>
  </div>
  <div class="group"><button id="undo" title="undo (Ctrl+Z)">Undo</button><button id="redo" title="redo (Ctrl+Y)">Redo</button></div>
  <div class="group"><button id="save" title="save the mask (Ctrl+S)">Save</button><button id="accept" title="save and mark accepted (A)">Accept</button></div>
</header>
<div id="list"></div>
<div id="view"><div id="stage"><canvas id="img"></canvas><canvas id="ov"></canvas></div><div id="rect"></div>
  <div id="scalebar"><div></div><span></span></div><div id="message">loading</div></div>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const api = (path, options = {}) => fetch(path, {...options, headers: {...(options.headers || {}), "X-Review-Token": token}});
const $ = (id) => document.getElementById(id);
const view = $("view"), stage = $("stage"), imgCanvas = $("img"), ov = $("ov"), rectDiv = $("rect");
const state = { images: [], k: 0, W: 0, H: 0, ps: null, mask: null, undo: [], redo: [], tool: "slider", dirty: false,
                zoom: 1, panX: 0, panY: 0, rect: null, preview: null, overlay: null, busy: 0, ready: false };
window.review = state;
function message(text) { $("message").textContent = text; }

async function loadList() {
  const r = await api("/api/images");
  if (!r.ok) { message("cannot list the images: " + r.status); return; }
  state.images = await r.json();
  renderList();
}
function renderList() {
  const list = $("list");
  list.innerHTML = "";
  state.images.forEach((im, k) => {
    const d = document.createElement("div");
    d.className = k === state.k ? "current" : "";
    d.innerHTML = `<span>${im.stem}</span><span class="status ${im.status}">${im.status}</span>`;
    d.onclick = () => go(k);
    list.appendChild(d);
  });
  const help = document.createElement("p");
  help.id = "help";
  help.textContent = "S slider, B brush, E eraser, R remove, H or space pan, F fill holes, [ ] size, wheel zoom, 0 fit, " +
    "Enter add, Esc cancel, Ctrl+Z undo, Ctrl+Y redo, Ctrl+S save, A accept, N/P next/previous.";
  list.appendChild(help);
}
async function pngPixels(blob) {
  const bitmap = await createImageBitmap(blob);
  const c = new OffscreenCanvas(bitmap.width, bitmap.height), g = c.getContext("2d");
  g.drawImage(bitmap, 0, 0);
  return { bitmap, data: g.getImageData(0, 0, bitmap.width, bitmap.height).data, width: bitmap.width, height: bitmap.height };
}
async function go(k) {
  if (state.dirty) await save();
  state.k = Math.max(0, Math.min(k, state.images.length - 1));
  const im = state.images[state.k];
  state.ready = false;
  message("loading " + im.stem);
  const [ri, rm] = await Promise.all([api(`/api/images/${im.stem}/image`), api(`/api/images/${im.stem}/mask`)]);
  if (!ri.ok || !rm.ok) { message("cannot load " + im.stem); return; }
  const image = await pngPixels(await ri.blob()), m = await pngPixels(await rm.blob());
  state.W = image.width; state.H = image.height; state.ps = im.pixel_size_nm;
  for (const c of [imgCanvas, ov]) { c.width = state.W; c.height = state.H; }
  imgCanvas.getContext("2d").drawImage(image.bitmap, 0, 0);
  state.mask = new Uint8Array(state.W * state.H);
  for (let i = 0; i < state.mask.length; i++) state.mask[i] = m.data[4 * i] > 127 ? 1 : 0;
  state.overlay = ov.getContext("2d").createImageData(state.W, state.H);
  state.undo = []; state.redo = []; state.rect = null; state.preview = null; state.dirty = false;
  rectDiv.style.display = "none";
  $("title").textContent = `${im.stem} (${state.k + 1}/${state.images.length})`;
  redraw(0, 0, state.W, state.H);
  fit();
  renderList();
  updateButtons();
  state.ready = true;
  message(`${im.stem}: ${state.W} x ${state.H}` + (state.ps ? `, ${state.ps} nm/px` : ", pixel size unknown (sizes in px)") + `, mask from ${im.mask_source}`);
}
// The overlay: soot tinted red; the slider's preview cyan inside its rectangle.
function redraw(x0, y0, w, h) {
  const d = state.overlay.data, W = state.W, p = state.preview;
  x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
  const x1 = Math.min(W, Math.ceil(x0 + w)), y1 = Math.min(state.H, Math.ceil(y0 + h));
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = y * W + x, o = 4 * i;
    let inPreview = false, v = state.mask[i];
    if (p && x >= p.x && x < p.x + p.width && y >= p.y && y < p.y + p.height) { inPreview = true; v = p.region[(y - p.y) * p.width + (x - p.x)]; }
    if (v) { d[o] = inPreview ? 0 : 255; d[o + 1] = inPreview ? 220 : 40; d[o + 2] = inPreview ? 255 : 40; d[o + 3] = 110; }
    else { d[o + 3] = 0; }
  }
  ov.getContext("2d").putImageData(state.overlay, 0, 0, x0, y0, x1 - x0, y1 - y0);
}
function applyTransform() {
  stage.style.transform = `translate(${state.panX}px, ${state.panY}px) scale(${state.zoom})`;
  if (state.rect) placeRect(state.rect);
  scaleBar();
}
function fit() {
  const r = view.getBoundingClientRect();
  state.zoom = Math.min(r.width / state.W, r.height / state.H) * 0.98;
  state.panX = (r.width - state.W * state.zoom) / 2; state.panY = (r.height - state.H * state.zoom) / 2;
  applyTransform();
}
function scaleBar() {
  const bar = $("scalebar");
  if (!state.ps) { bar.style.display = "none"; return; }
  bar.style.display = "";
  const target = 150 / state.zoom * state.ps;  // nm in about 150 screen px
  const nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].reduce((a, b) => Math.abs(b - target) < Math.abs(a - target) ? b : a);
  bar.firstElementChild.style.width = (nice / state.ps * state.zoom) + "px";
  bar.lastElementChild.textContent = nice >= 1000 ? (nice / 1000) + " µm" : nice + " nm";
}
function toImage(ev) {
  const r = view.getBoundingClientRect();
  return { x: (ev.clientX - r.left - state.panX) / state.zoom, y: (ev.clientY - r.top - state.panY) / state.zoom };
}
function snapshot() { state.undo.push(state.mask.slice()); if (state.undo.length > 30) state.undo.shift(); state.redo = []; updateButtons(); }
function changed() { state.dirty = true; updateButtons(); }
function undo() { if (!state.undo.length) return; state.redo.push(state.mask); state.mask = state.undo.pop(); redraw(0, 0, state.W, state.H); changed(); }
function redo() { if (!state.redo.length) return; state.undo.push(state.mask); state.mask = state.redo.pop(); redraw(0, 0, state.W, state.H); changed(); }
function updateButtons() {
  $("undo").disabled = !state.undo.length; $("redo").disabled = !state.redo.length;
  $("apply").disabled = $("replace").disabled = !state.preview;
  document.querySelectorAll("[data-tool]").forEach(b => b.classList.toggle("active", b.dataset.tool === state.tool));
  $("save").textContent = state.dirty ? "Save*" : "Save";
}
function brushRadius() {
  const nm = Math.max(1, Number($("brush").value) || 20);
  return Math.max(0.5, (state.ps ? nm / state.ps : nm) / 2);
}
function paint(x, y, value) {
  const r = brushRadius(), W = state.W, H = state.H;
  for (let yy = Math.max(0, Math.floor(y - r)); yy <= Math.min(H - 1, Math.ceil(y + r)); yy++)
    for (let xx = Math.max(0, Math.floor(x - r)); xx <= Math.min(W - 1, Math.ceil(x + r)); xx++)
      if ((xx - x) ** 2 + (yy - y) ** 2 <= r * r) state.mask[yy * W + xx] = value;
  redraw(x - r - 1, y - r - 1, 2 * r + 3, 2 * r + 3);
}
function stroke(a, b, value) {
  const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / Math.max(1, brushRadius() / 2)));
  for (let s = 1; s <= steps; s++) paint(a.x + (b.x - a.x) * s / steps, a.y + (b.y - a.y) * s / steps, value);
}
// 8-connected component of (x, y) set to 0.
function removeAggregate(x, y) {
  const W = state.W, H = state.H, m = state.mask;
  x = Math.floor(x); y = Math.floor(y);
  if (x < 0 || y < 0 || x >= W || y >= H || !m[y * W + x]) return false;
  snapshot();
  const stack = [y * W + x]; m[y * W + x] = 0;
  let minX = x, maxX = x, minY = y, maxY = y;
  while (stack.length) {
    const i = stack.pop(), cx = i % W, cy = (i - cx) / W;
    minX = Math.min(minX, cx); maxX = Math.max(maxX, cx); minY = Math.min(minY, cy); maxY = Math.max(maxY, cy);
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const nx = cx + dx, ny = cy + dy;
      if (nx >= 0 && ny >= 0 && nx < W && ny < H && m[ny * W + nx]) { m[ny * W + nx] = 0; stack.push(ny * W + nx); }
    }
  }
  redraw(minX, minY, maxX - minX + 1, maxY - minY + 1);
  changed();
  return true;
}
// Holes: background pixels not 4-connected to the border.
function fillHoles() {
  const W = state.W, H = state.H, m = state.mask, outside = new Uint8Array(W * H), stack = [];
  for (let x = 0; x < W; x++) for (const y of [0, H - 1]) if (!m[y * W + x]) { outside[y * W + x] = 1; stack.push(y * W + x); }
  for (let y = 0; y < H; y++) for (const x of [0, W - 1]) if (!m[y * W + x] && !outside[y * W + x]) { outside[y * W + x] = 1; stack.push(y * W + x); }
  while (stack.length) {
    const i = stack.pop(), x = i % W, y = (i - x) / W;
    for (const [nx, ny] of [[x + 1, y], [x - 1, y], [x, y + 1], [x, y - 1]])
      if (nx >= 0 && ny >= 0 && nx < W && ny < H && !m[ny * W + nx] && !outside[ny * W + nx]) { outside[ny * W + nx] = 1; stack.push(ny * W + nx); }
  }
  snapshot();
  let filled = 0;
  for (let i = 0; i < m.length; i++) if (!m[i] && !outside[i]) { m[i] = 1; filled++; }
  redraw(0, 0, W, H);
  changed();
  message(`filled ${filled} px of holes`);
}
function placeRect(r) {
  rectDiv.style.display = "block";
  rectDiv.style.left = (state.panX + r.x * state.zoom) + "px"; rectDiv.style.top = (state.panY + r.y * state.zoom) + "px";
  rectDiv.style.width = (r.width * state.zoom) + "px"; rectDiv.style.height = (r.height * state.zoom) + "px";
}
let sliderTimer = null, sliderSerial = 0;
function requestSlider(useThreshold) {
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(() => runSlider(useThreshold), 40);
}
async function runSlider(useThreshold) {
  const r = state.rect; if (!r) return;
  const serial = ++sliderSerial, im = state.images[state.k];
  const body = { x: r.x, y: r.y, width: r.width, height: r.height, sigma_px: Number($("sigma").value), mode: "replace", preview: true };
  if (useThreshold) body.threshold = Number($("threshold").value);
  state.busy++;
  const res = await api(`/api/images/${im.stem}/slider`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  state.busy--;
  if (!res.ok) { message("slider: " + ((await res.json()).error || res.status)); return; }
  if (serial !== sliderSerial) return;
  const [x, y, w, h] = res.headers.get("X-Slider-Rectangle").split(",").map(Number);
  if (!useThreshold) { $("threshold").value = res.headers.get("X-Slider-Otsu"); }
  $("thresholdval").textContent = Number($("threshold").value).toFixed(3);
  const m = await pngPixels(await res.blob());
  const region = new Uint8Array(w * h);
  for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) region[yy * w + xx] = m.data[4 * ((y + yy) * m.width + x + xx)] > 127 ? 1 : 0;
  state.preview = { x, y, width: w, height: h, region };
  redraw(x, y, w, h);
  updateButtons();
}
function applySlider(mode) {
  const p = state.preview; if (!p) return;
  snapshot();
  for (let yy = 0; yy < p.height; yy++) for (let xx = 0; xx < p.width; xx++) {
    const i = (p.y + yy) * state.W + p.x + xx, v = p.region[yy * p.width + xx];
    state.mask[i] = mode === "add" ? (state.mask[i] | v) : v;
  }
  cancelSlider();
  changed();
}
function cancelSlider() {
  const p = state.preview;
  state.preview = null; state.rect = null; rectDiv.style.display = "none";
  if (p) redraw(p.x, p.y, p.width, p.height);
  updateButtons();
}
async function save() {
  const im = state.images[state.k], c = new OffscreenCanvas(state.W, state.H), g = c.getContext("2d");
  const data = g.createImageData(state.W, state.H);
  for (let i = 0; i < state.mask.length; i++) { const v = state.mask[i] ? 255 : 0; data.data[4 * i] = data.data[4 * i + 1] = data.data[4 * i + 2] = v; data.data[4 * i + 3] = 255; }
  g.putImageData(data, 0, 0);
  const blob = await c.convertToBlob({ type: "image/png" });
  state.busy++;
  const res = await api(`/api/images/${im.stem}/mask`, { method: "PUT", headers: { "Content-Type": "image/png" }, body: blob });
  state.busy--;
  if (!res.ok) { message("save failed: " + ((await res.json()).error || res.status)); return false; }
  state.images[state.k] = await res.json();
  state.dirty = false;
  renderList(); updateButtons();
  message(`saved masks/${im.stem}.png`);
  return true;
}
async function accept() {
  if (!(await save())) return;
  const im = state.images[state.k];
  const res = await api(`/api/images/${im.stem}/status`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status: "accepted" }) });
  if (res.ok) { state.images[state.k] = await res.json(); renderList(); message(`${im.stem} accepted`); }
}
// Pointer: tools, panning (middle or right button, space, the pan tool), wheel zoom.
let drag = null, spaceDown = false;
view.addEventListener("contextmenu", e => e.preventDefault());
view.addEventListener("pointerdown", ev => {
  if (!state.ready) return;
  view.setPointerCapture(ev.pointerId);
  const p = toImage(ev);
  if (ev.button !== 0 || spaceDown || state.tool === "pan") { drag = { kind: "pan", sx: ev.clientX, sy: ev.clientY, px: state.panX, py: state.panY }; return; }
  if (state.tool === "slider") { cancelSlider(); drag = { kind: "rect", a: p }; }
  else if (state.tool === "brush" || state.tool === "eraser") { snapshot(); const v = state.tool === "brush" ? 1 : 0; paint(p.x, p.y, v); drag = { kind: "paint", last: p, value: v }; changed(); }
  else if (state.tool === "remove") { if (!removeAggregate(p.x, p.y)) message("no aggregate there"); }
});
view.addEventListener("pointermove", ev => {
  if (!drag) return;
  const p = toImage(ev);
  if (drag.kind === "pan") { state.panX = drag.px + ev.clientX - drag.sx; state.panY = drag.py + ev.clientY - drag.sy; applyTransform(); }
  else if (drag.kind === "paint") { stroke(drag.last, p, drag.value); drag.last = p; }
  else if (drag.kind === "rect") {
    const x0 = Math.max(0, Math.floor(Math.min(drag.a.x, p.x))), y0 = Math.max(0, Math.floor(Math.min(drag.a.y, p.y)));
    const x1 = Math.min(state.W, Math.ceil(Math.max(drag.a.x, p.x))), y1 = Math.min(state.H, Math.ceil(Math.max(drag.a.y, p.y)));
    state.rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    placeRect(state.rect);
  }
});
view.addEventListener("pointerup", () => {
  if (drag && drag.kind === "rect" && state.rect && state.rect.width >= 3 && state.rect.height >= 3) requestSlider(false);
  drag = null;
});
view.addEventListener("wheel", ev => {
  ev.preventDefault();
  const r = view.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
  const factor = Math.exp(-ev.deltaY * 0.0015), zoom = Math.min(32, Math.max(0.05, state.zoom * factor));
  state.panX = mx - (mx - state.panX) * zoom / state.zoom; state.panY = my - (my - state.panY) * zoom / state.zoom;
  state.zoom = zoom; applyTransform();
}, { passive: false });
window.addEventListener("resize", () => state.W && applyTransform());
document.querySelectorAll("[data-tool]").forEach(b => b.onclick = () => { state.tool = b.dataset.tool; if (state.tool !== "slider") cancelSlider(); updateButtons(); });
$("fill").onclick = fillHoles; $("undo").onclick = undo; $("redo").onclick = redo;
$("apply").onclick = () => applySlider("add"); $("replace").onclick = () => applySlider("replace");
$("save").onclick = save; $("accept").onclick = accept;
$("prev").onclick = () => go(state.k - 1); $("next").onclick = () => go(state.k + 1);
$("threshold").oninput = () => { $("thresholdval").textContent = Number($("threshold").value).toFixed(3); requestSlider(true); };
$("sigma").oninput = () => { $("sigmaval").textContent = $("sigma").value; requestSlider(true); };
window.addEventListener("keydown", ev => {
  if (ev.target.tagName === "INPUT" && ev.target.type === "number") return;
  const key = ev.key.toLowerCase(), ctrl = ev.ctrlKey || ev.metaKey;
  if (ctrl && key === "z") { ev.preventDefault(); ev.shiftKey ? redo() : undo(); }
  else if (ctrl && key === "y") { ev.preventDefault(); redo(); }
  else if (ctrl && key === "s") { ev.preventDefault(); save(); }
  else if (ctrl) return;
  else if (key === " ") { spaceDown = true; ev.preventDefault(); }
  else if ({ s: "slider", b: "brush", e: "eraser", r: "remove", h: "pan" }[key]) { state.tool = { s: "slider", b: "brush", e: "eraser", r: "remove", h: "pan" }[key]; if (state.tool !== "slider") cancelSlider(); updateButtons(); }
  else if (key === "f") fillHoles();
  else if (key === "enter") applySlider("add");
  else if (key === "escape") cancelSlider();
  else if (key === "a") accept();
  else if (key === "n" || key === "pagedown") go(state.k + 1);
  else if (key === "p" || key === "pageup") go(state.k - 1);
  else if (key === "0") fit();
  else if (key === "[" || key === "]") $("brush").value = Math.max(1, Math.round(Number($("brush").value) * (key === "]" ? 1.25 : 0.8)));
});
window.addEventListener("keyup", ev => { if (ev.key === " ") spaceDown = false; });
window.addEventListener("beforeunload", ev => { if (state.dirty) { ev.preventDefault(); ev.returnValue = ""; } });
loadList().then(() => state.images.length && go(0));
</script>
</body></html>
"""#
}

// Kallima's page: Explorer, Live and 2-D views over the serve API and the
// live routes. Plain JavaScript, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

function debounce(f, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); };
}

// ---- tabs -----------------------------------------------------------------

const views = ["explorer", "live", "2d"];
function showView() {
  let v = location.hash.replace("#", "") || "explorer";
  if (!views.includes(v)) v = "explorer";
  for (const w of views) {
    $("view-" + w).classList.toggle("active", w === v);
    $("tab-" + w).classList.toggle("active", w === v);
  }
  if (v === "live") drawCurves();
  if (v === "2d") drawField();
}
window.addEventListener("hashchange", showView);

// ---- explorer ---------------------------------------------------------------

let models = [];
let model = null;

async function loadModels() {
  try {
    models = (await getJSON("/v1/models")).models || [];
  } catch (e) {
    models = [];
  }
  const sel = $("model");
  sel.innerHTML = "";
  for (const m of models) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name + " (" + m.family + ")";
    sel.appendChild(o);
  }
  $("no-models").hidden = models.length > 0;
  for (const el of document.querySelectorAll("#view-explorer .panel")) el.hidden = models.length === 0;
  if (models.length) selectModel(models[0].name);
}

function selectModel(name) {
  model = models.find((m) => m.name === name);
  if (!model) return;
  const shape = model.kind === "image" ? model.channels + "\u00d7" + model.height + "\u00d7" + model.width : "2-D points";
  $("model-info").textContent = model.family + ", step " + model.step + ", " + shape + ", " + model.weights + " weights";
  const cls = $("class");
  cls.innerHTML = "";
  $("class-row").hidden = !model.classes;
  if (model.classes) {
    cls.appendChild(new Option("every class, in turn", ""));
    for (let k = 0; k < model.classes; k++) {
      const nm = (model.class_names && model.class_names[k]) || String(k);
      cls.appendChild(new Option(nm, String(k)));
    }
  }
  const codes = $("codes");
  codes.innerHTML = "";
  for (const c of model.codes || []) {
    const lab = document.createElement("label");
    const cat = c.categories > 0;
    const lo = cat ? 0 : c.lo, hi = cat ? c.categories - 1 : c.hi;
    lab.innerHTML = 'Code ' + c.name + (cat ? " (" + c.categories + " categories)" : " (continuous)") +
      ' <span class="val" id="code-' + c.name + '-val">free</span>' +
      '<input type="range" id="code-' + c.name + '" min="' + lo + '" max="' + hi + '" step="' + (cat ? 1 : (hi - lo) / 40) + '" value="' + (cat ? 0 : (lo + hi) / 2) + '">' +
      '<span class="check"><input type="checkbox" id="code-' + c.name + '-on"> fix</span>';
    codes.appendChild(lab);
  }
  for (const c of model.codes || []) {
    $("code-" + c.name).addEventListener("input", () => { $("code-" + c.name + "-on").checked = true; updateSample(); });
    $("code-" + c.name + "-on").addEventListener("change", updateSample);
  }
  const can = model.can || [];
  $("translate-panel").hidden = !can.includes("translate");
  // From the first domain to the second by default; a model of more than
  // two domains needs both named (the API refuses to guess).
  const from = $("from"), to = $("to");
  from.innerHTML = "";
  to.innerHTML = "";
  for (const d of model.domains || []) { from.appendChild(new Option(d, d)); to.appendChild(new Option(d, d)); }
  if (to.options.length > 1) to.selectedIndex = 1;
  const maxN = model.max_n || 64;
  for (const o of $("n").options) o.disabled = Number(o.value) > maxN;
  updateSample();
  updateInterp();
}

function sampleQuery() {
  const q = new URLSearchParams();
  q.set("seed", $("seed").value);
  q.set("n", $("n").value);
  if (model.classes && $("class").value !== "") q.set("class", $("class").value);
  const t = Number($("truncation").value);
  if (t > 0) q.set("truncation", String(t));
  for (const c of model.codes || []) {
    if ($("code-" + c.name + "-on").checked) q.append("code", c.name + "=" + $("code-" + c.name).value);
  }
  return q;
}

function updateSample() {
  $("seed-val").textContent = $("seed").value;
  const t = Number($("truncation").value);
  $("truncation-val").textContent = t > 0 ? t.toFixed(2) : "none";
  if (!model) return;
  for (const c of model.codes || []) {
    $("code-" + c.name + "-val").textContent = $("code-" + c.name + "-on").checked ? $("code-" + c.name).value : "free";
  }
  const url = "/v1/models/" + encodeURIComponent(model.name) + "/sample.png?" + sampleQuery().toString();
  const img = $("sample");
  img.onerror = () => { $("sample-note").textContent = "could not draw this request"; };
  img.onload = () => { $("sample-note").textContent = ""; };
  img.src = url;
  $("download").href = url;
}

function updateInterp() {
  if (!model || !(model.can || []).includes("interpolate")) { $("interp").hidden = true; return; }
  $("interp").hidden = false;
  const q = new URLSearchParams({ seed: $("seed1").value, seed2: $("seed2").value, steps: $("steps").value });
  if (model.classes && $("class").value !== "") q.set("class", $("class").value);
  $("interp").src = "/v1/models/" + encodeURIComponent(model.name) + "/interpolate.png?" + q.toString();
}

async function translate() {
  const f = $("upload").files[0];
  if (!f || !model) return;
  const q = new URLSearchParams();
  if ($("from").value) q.set("from", $("from").value);
  if ($("to").value) q.set("to", $("to").value);
  const r = await fetch("/v1/models/" + encodeURIComponent(model.name) + "/translate?" + q.toString(), { method: "POST", body: f });
  if (!r.ok) {
    let msg = r.status + "";
    try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
    $("translate-note").textContent = msg;
    return;
  }
  $("translate-note").textContent = r.headers.get("X-Kallima-Note") || "";
  $("translated").src = URL.createObjectURL(await r.blob());
}

$("model").addEventListener("change", (e) => selectModel(e.target.value));
$("seed").addEventListener("input", debounce(updateSample, 40));
$("truncation").addEventListener("input", debounce(updateSample, 40));
$("n").addEventListener("change", updateSample);
$("class").addEventListener("change", () => { updateSample(); updateInterp(); });
for (const id of ["seed1", "seed2", "steps"]) $(id).addEventListener("change", updateInterp);
$("upload").addEventListener("change", translate);
$("from").addEventListener("change", translate);
$("to").addEventListener("change", translate);

// ---- live -----------------------------------------------------------------

const palette = ["#6aa8ff", "#ff6b9a", "#3ddc97", "#ffc857", "#b388ff", "#4dd0e1", "#ff8a65", "#aed581", "#f06292", "#90a4ae"];
let liveRuns = [];
let current = null;     // the run whose events we follow
let source = null;      // its EventSource
let records = [];       // metrics records, by increasing step
let shown = {};         // scalar name -> drawn
let field = null;       // newest field event
let fieldDraws = 0;
let runState = { paused: false, step: 0, steps: 0 };

async function loadRuns() {
  try {
    liveRuns = (await getJSON("/v1/live")).runs || [];
  } catch (e) {
    liveRuns = [];
  }
  $("no-runs").hidden = liveRuns.length > 0;
  for (const el of document.querySelectorAll("#view-live .panel")) el.hidden = liveRuns.length === 0;
  for (const id of ["run", "run2d"]) {
    const sel = $(id);
    sel.innerHTML = "";
    for (const r of liveRuns) sel.appendChild(new Option(r.name + (r.kind === "points" ? " (2-D)" : ""), r.name));
  }
  if (!liveRuns.length) { fieldNote(); return; }
  const pts = liveRuns.find((r) => r.kind === "points");
  follow((pts && location.hash === "#2d" ? pts : liveRuns[0]).name);
}

function follow(name) {
  if (source) source.close();
  current = liveRuns.find((r) => r.name === name);
  $("run").value = name;
  $("run2d").value = name;
  records = [];
  field = null;
  runState = { paused: current.paused, step: current.step, steps: current.steps, stage: current.stage || "" };
  const base = "/v1/live/" + encodeURIComponent(name);
  const pending = [];
  let loaded = false;
  const addRecord = (r) => {
    if (records.length && r.step <= records[records.length - 1].step) {
      // A resumed run rewrote these steps: keep the curve monotone.
      while (records.length && records[records.length - 1].step >= r.step) records.pop();
    }
    records.push(r);
  };
  source = new EventSource(base + "/events");
  source.onopen = () => setConn(true);
  source.onerror = () => setConn(false);
  source.addEventListener("metrics", (e) => {
    const r = JSON.parse(e.data);
    if (!loaded) { pending.push(r); return; }
    addRecord(r);
    runState.step = r.step;
    scheduleCurves();
  });
  // The history was replaced (a resumed run's past, a new candidate of a
  // run with train.candidates, the kept one continued): read it again.
  source.addEventListener("reset", () => follow(current.name));
  source.addEventListener("sample", (e) => {
    const s = JSON.parse(e.data);
    $("live-sample").src = s.url;
    $("live-sample-step").textContent = "step " + s.step;
  });
  source.addEventListener("field", (e) => {
    field = JSON.parse(e.data);
    scheduleField();
  });
  source.addEventListener("state", (e) => {
    Object.assign(runState, JSON.parse(e.data));
    updateStatus();
  });
  getJSON(base + "/history").then((h) => {
    for (const r of h.records || []) addRecord(r);
    for (const r of pending) addRecord(r);
    loaded = true;
    if (records.length) runState.step = Math.max(runState.step, records[records.length - 1].step);
    buildSeries();
    scheduleCurves();
  }).catch(() => { loaded = true; });
  fieldNote();
  updateStatus();
}

function setConn(ok) {
  const c = $("conn");
  c.className = "conn " + (ok ? "ok" : "bad");
  c.textContent = ok ? "live" : "reconnecting";
}

function updateStatus() {
  if (!current) return;
  const pct = runState.steps ? Math.min(100, 100 * runState.step / runState.steps) : 0;
  // A run with train.candidates shows one candidate at a time: say which.
  const txt = "step " + runState.step + " / " + runState.steps + (runState.stage ? "  \u00b7  " + runState.stage : "") +
    (runState.paused ? "  \u00b7  paused" : "");
  $("live-status").textContent = txt;
  $("field-status").textContent = txt;
  $("live-progress").style.width = pct.toFixed(1) + "%";
  $("pause").classList.toggle("on", !!runState.paused);
  for (const id of ["pause", "step", "resume"]) $(id).disabled = !current.in_process;
}

// A scalar worth a curve by default: the players' losses and the
// evaluation scores (not learning rates or every loss term).
const defaultShown = (k) => /\/loss$/.test(k) || /^eval\//.test(k);

function keys() {
  const ks = new Set();
  for (const r of records) for (const k in r.scalars) ks.add(k);
  return [...ks].sort();
}

function buildSeries() {
  const box = $("series");
  const ks = keys();
  if (box.dataset.keys === ks.join(",")) return;
  box.dataset.keys = ks.join(",");
  box.innerHTML = "";
  ks.forEach((k, i) => {
    if (!(k in shown)) shown[k] = defaultShown(k);
    const lab = document.createElement("label");
    lab.innerHTML = '<input type="checkbox"' + (shown[k] ? " checked" : "") + '><span class="sw" style="background:' +
      palette[i % palette.length] + '"></span>' + k;
    lab.querySelector("input").addEventListener("change", (e) => { shown[k] = e.target.checked; drawCurves(); });
    box.appendChild(lab);
  });
}

let curvesQueued = false;
function scheduleCurves() {
  updateStatus();
  if (curvesQueued) return;
  curvesQueued = true;
  requestAnimationFrame(() => { curvesQueued = false; buildSeries(); drawCurves(); });
}

function num(v) { return typeof v === "number" ? v : Number(v); }

// drawCurves plots the shown scalars against the step, smoothed by an
// exponential moving average (TensorBoard's slider), losses in one chart
// and evaluation scores in another.
function drawCurves() {
  const ks = keys();
  const losses = ks.filter((k) => shown[k] && !k.startsWith("eval/"));
  const evals = ks.filter((k) => shown[k] && k.startsWith("eval/"));
  $("smooth-val").textContent = Number($("smooth").value).toFixed(2);
  const n = plot($("curves"), losses, ks, "training", $("logy").checked);
  $("curves").dataset.points = String(n);
  $("evals").hidden = evals.length === 0;
  if (evals.length) plot($("evals"), evals, ks, "evaluation", false);
}

function plot(cv, names, all, title, logy) {
  const ctx = cv.getContext("2d");
  const W = cv.width, H = cv.height, L = 56, R = 16, T = 24, B = 30;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#12161e";
  ctx.fillRect(0, 0, W, H);
  const a = Number($("smooth").value);
  const series = names.map((k) => {
    const pts = [];
    let ema = null;
    for (const r of records) {
      if (!(k in r.scalars)) continue;
      let v = num(r.scalars[k]);
      if (!isFinite(v) || (logy && v <= 0)) continue;
      if (logy) v = Math.log10(v);
      ema = ema === null ? v : a * ema + (1 - a) * v;
      pts.push([r.step, ema]);
    }
    // A long run: draw at most about 2000 points a curve (of the smoothed
    // values, so nothing is lost but resolution), always the newest.
    const stride = Math.ceil(pts.length / 2000);
    const kept = stride > 1 ? pts.filter((p, i) => i % stride === 0 || i === pts.length - 1) : pts;
    return { k, pts: kept, color: palette[all.indexOf(k) % palette.length] };
  });
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, count = 0;
  for (const s of series) for (const [x, y] of s.pts) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); count++;
  }
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#8b95a7";
  ctx.fillText(title, L, 16);
  if (!count) {
    ctx.fillText("waiting for the first step\u2026", W / 2 - 80, H / 2);
    return 0;
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.06;
  y0 -= pad; y1 += pad;
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  ctx.strokeStyle = "#262d3a";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#8b95a7";
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4, py = Math.round(Y(y)) + 0.5;
    ctx.beginPath(); ctx.moveTo(L, py); ctx.lineTo(W - R, py); ctx.stroke();
    const lab = logy ? "1e" + y.toFixed(1) : (Math.abs(y) >= 100 ? y.toFixed(0) : y.toPrecision(3));
    ctx.fillText(lab, 6, py + 4);
  }
  for (let i = 0; i <= 5; i++) {
    const x = x0 + (x1 - x0) * i / 5;
    ctx.fillText(String(Math.round(x)), X(x) - 10, H - 10);
  }
  for (const s of series) {
    if (!s.pts.length) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.8;
    ctx.beginPath();
    s.pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    const [lx, ly] = s.pts[s.pts.length - 1];
    ctx.fillStyle = s.color;
    ctx.fillText(s.k, Math.min(X(lx) - 70, W - R - 90), Y(ly) - 6);
  }
  return count;
}

$("run").addEventListener("change", (e) => follow(e.target.value));
$("run2d").addEventListener("change", (e) => follow(e.target.value));
$("smooth").addEventListener("input", drawCurves);
$("logy").addEventListener("change", drawCurves);

// ---- 2-D ------------------------------------------------------------------

function fieldNote() {
  let note = "";
  if (!current) note = "No live run.";
  else if (current.kind !== "points") note = current.name + " is not a 2-D run: its curves and samples are under Live.";
  else if (!current.in_process) note = "The field (D's heat map, arrows, warped grid) is computed by the training process: start it with kallima train -serve to see it.";
  else if (!field) note = "Waiting for the first field\u2026";
  $("field-note").textContent = note;
}

let fieldQueued = false;
function scheduleField() {
  if (fieldQueued) return;
  fieldQueued = true;
  requestAnimationFrame(() => { fieldQueued = false; drawField(); });
}

// heat maps D's raw output to a colour: purple where D says fake, green
// where it says real, dark at its decision boundary 0, scaled by the
// largest |D| on the plane.
function heat(d, scale) {
  const t = Math.max(-1, Math.min(1, d / scale));
  const base = [22, 26, 34];
  const to = t > 0 ? [31, 128, 90] : [112, 48, 138];
  const u = Math.pow(Math.abs(t), 0.8);
  return base.map((b, i) => Math.round(b + (to[i] - b) * u));
}

function drawField() {
  const cv = $("field");
  const ctx = cv.getContext("2d");
  const W = cv.width, H = cv.height;
  ctx.fillStyle = "#0b0e13";
  ctx.fillRect(0, 0, W, H);
  fieldNote();
  if (!field) return;
  const g = field.grid;
  const X = (x) => (x - g.x0) / (g.x1 - g.x0) * W;
  const Y = (y) => H - (y - g.y0) / (g.y1 - g.y0) * H;
  if ($("show-heat").checked && g.d && g.n) {
    let scale = 1e-6;
    for (const v of g.d) scale = Math.max(scale, Math.abs(v));
    const off = document.createElement("canvas");
    off.width = g.n; off.height = g.n;
    const oc = off.getContext("2d");
    const im = oc.createImageData(g.n, g.n);
    for (let r = 0; r < g.n; r++) {
      for (let c = 0; c < g.n; c++) {
        const col = heat(g.d[r * g.n + c], scale);
        const o = ((g.n - 1 - r) * g.n + c) * 4; // row 0 is the bottom
        im.data[o] = col[0]; im.data[o + 1] = col[1]; im.data[o + 2] = col[2]; im.data[o + 3] = 255;
      }
    }
    oc.putImageData(im, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(off, 0, 0, W, H);
  }
  if ($("show-warp").checked && field.warp) {
    ctx.strokeStyle = "rgba(220, 228, 240, 0.28)";
    ctx.lineWidth = 1;
    for (const line of field.warp) {
      ctx.beginPath();
      line.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
    }
  }
  const dots = (pts, color, r, outline) => {
    ctx.fillStyle = color;
    ctx.strokeStyle = outline || "transparent";
    ctx.lineWidth = 1;
    for (const [x, y] of pts) {
      ctx.beginPath(); ctx.arc(X(x), Y(y), r, 0, 2 * Math.PI); ctx.fill();
      if (outline) ctx.stroke();
    }
  };
  // The real points on top: they are few places (a mixture's modes) that
  // the generated ones would hide.
  if ($("show-fake").checked) dots(field.fake, "rgba(255, 107, 154, 0.85)", 2.6);
  if ($("show-real").checked) dots(field.real, "rgba(61, 220, 151, 0.9)", 2.2, "rgba(10, 40, 28, 0.8)");
  if ($("show-arrows").checked && field.arrows && field.arrows.length) {
    let m = 1e-12;
    for (const a of field.arrows) m = Math.max(m, Math.hypot(a[2], a[3]));
    const len = 0.07 * W; // the longest arrow, in pixels
    ctx.strokeStyle = "rgba(255, 236, 179, 0.85)";
    ctx.lineWidth = 1.1;
    const step = Math.max(1, Math.floor(field.arrows.length / 150));
    for (let i = 0; i < field.arrows.length; i += step) {
      const [x, y, dx, dy] = field.arrows[i];
      const px = X(x), py = Y(y), s = len / m;
      const qx = px + dx * s, qy = py - dy * s;
      ctx.beginPath(); ctx.moveTo(px, py); ctx.lineTo(qx, qy); ctx.stroke();
      const ang = Math.atan2(qy - py, qx - px), h = 4;
      if (Math.hypot(qx - px, qy - py) > 3) {
        ctx.beginPath();
        ctx.moveTo(qx, qy);
        ctx.lineTo(qx - h * Math.cos(ang - 0.5), qy - h * Math.sin(ang - 0.5));
        ctx.moveTo(qx, qy);
        ctx.lineTo(qx - h * Math.cos(ang + 0.5), qy - h * Math.sin(ang + 0.5));
        ctx.stroke();
      }
    }
  }
  ctx.fillStyle = "rgba(227, 231, 238, 0.8)";
  ctx.font = "13px system-ui, sans-serif";
  ctx.fillText("step " + field.step, 12, 22);
  fieldDraws++;
  cv.dataset.draws = String(fieldDraws);
  cv.dataset.step = String(field.step);
}

for (const id of ["show-heat", "show-real", "show-fake", "show-arrows", "show-warp"]) $(id).addEventListener("change", drawField);

async function control(action) {
  if (!current) return;
  const r = await fetch("/v1/live/" + encodeURIComponent(current.name) + "/" + action, { method: "POST" });
  if (r.ok) {
    const info = await r.json();
    runState.paused = info.paused;
    updateStatus();
  }
}
for (const a of ["pause", "step", "resume"]) $(a).addEventListener("click", () => control(a));

// ---- start ----------------------------------------------------------------

// With no models to explore (kallima train -serve), open on the live run:
// the 2-D view for a 2-D run, the curves otherwise.
showView();
Promise.all([loadModels(), loadRuns()]).then(() => {
  if (location.hash || models.length || !liveRuns.length) return;
  location.hash = liveRuns.some((r) => r.kind === "points" && r.in_process) ? "#2d" : "#live";
});

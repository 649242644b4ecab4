// The watch page: one tile per followed session, updated over a WebSocket; markers sent back the same way.
// Every text comes from the server in the page's language and is placed with textContent, never as HTML.
"use strict";

const WINDOW_S = 300;          // the curve shows the last five minutes of session time
const base = location.pathname.replace(/\/+$/, "");
const tiles = new Map();       // key -> {el, parts, points}
let words = {};
let socket = null;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function makeTile(key) {
  const root = el("section", "tile");
  root.dataset.key = key;
  const head = el("div", "head");
  const who = el("div", "who");
  const name = el("span", "client");
  const sid = el("span", "sid");
  who.append(name, sid);
  const state = el("span", "state");
  head.append(who, state);
  const step = el("div", "step");
  const stepTitle = el("span", "title");
  const time = el("span", "time");
  step.append(stepTitle, time);
  const canvas = el("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", words.curve || "");
  const legend = el("div", "legend");
  legend.append(el("span", "hr", words.legend_hr || ""), el("span", "calm", words.legend_calm || ""));
  const numbers = el("div", "numbers");
  const care = el("div", "care");
  care.hidden = true;
  const end = el("div", "end");
  end.hidden = true;
  const mark = el("div", "mark");
  const input = el("input");
  input.type = "text";
  input.maxLength = 60;
  input.placeholder = words.marker_word || "";
  input.setAttribute("list", "marker-words");
  input.setAttribute("aria-label", words.marker_word || "");
  const button = el("button", "marker", words.marker || "Marker");
  button.type = "button";
  const status = el("div", "mark-status");
  status.setAttribute("aria-live", "polite");
  mark.append(input, button);
  button.addEventListener("click", () => sendMarker(key, input, status));
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") sendMarker(key, input, status); });
  root.append(head, step, canvas, legend, numbers, care, end, mark, status);
  document.getElementById("tiles").append(root);
  document.getElementById("empty").hidden = true;
  const t = {el: root, parts: {name, sid, state, stepTitle, time, canvas, numbers, care, end, input, button, status},
             points: []};
  tiles.set(key, t);
  return t;
}

function sendMarker(key, input, status) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({type: "marker", key: key, label: input.value}));
  input.value = "";
  status.className = "mark-status";
  status.textContent = words.marker_sent || "…";
}

function showTile(data, points) {
  const t = tiles.get(data.key) || makeTile(data.key);
  const p = t.parts;
  p.name.textContent = data.client || data.session;
  p.sid.textContent = data.client ? data.session : "";
  p.state.textContent = data.state_text;
  p.state.className = "state " + data.state;
  p.stepTitle.textContent = (words.step || "") + ": " + data.step;
  p.time.textContent = data.time;
  if (typeof data.ts === "number" && String(data.ts) !== t.el.dataset.ts) {
    t.el.dataset.ts = String(data.ts);            // when the session sampled these numbers (its clock) ...
    t.el.dataset.shown = String(Date.now() / 1000);  // ... and when this page showed them (bench_mqtt.py: delay)
  }
  p.numbers.replaceChildren(...data.numbers.map((n) => {
    const span = el("span");
    span.dataset.metric = n.key;
    span.append(el("span", "name", n.name + " "), el("b", null, n.text));
    return span;
  }));
  p.care.textContent = data.care;
  p.care.hidden = !data.care;
  p.end.textContent = data.end;
  p.end.hidden = !data.end;
  t.el.classList.toggle("alert", data.alert);
  t.el.classList.toggle("ended", data.state === "offline" || data.state === "lost");
  p.button.disabled = data.state === "offline" || data.state === "lost";
  if (points && points.length) {
    t.points.push(...points);
    const last = t.points[t.points.length - 1][0];
    while (t.points.length && t.points[0][0] < last - WINDOW_S) t.points.shift();
  }
  draw(t);
}

function line(ctx, points, index, lo, hi, x, h) {
  ctx.beginPath();
  let open = false;
  for (const pt of points) {
    const v = pt[index];
    if (v === null || v === undefined) { open = false; continue; }
    const y = h - 6 - ((v - lo) / (hi - lo || 1)) * (h - 12);
    if (open) ctx.lineTo(x(pt[0]), y); else ctx.moveTo(x(pt[0]), y);
    open = true;
  }
  ctx.stroke();
}

function draw(t) {
  const canvas = t.parts.canvas;
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pts = t.points;
  if (pts.length < 2) return;
  const end = pts[pts.length - 1][0], start = Math.max(pts[0][0], end - WINDOW_S);
  const x = (s) => 34 + ((s - start) / (end - start || 1)) * (w - 40);
  const bpm = pts.map((p) => p[1]).filter((v) => v !== null);
  if (bpm.length) {
    const lo = Math.floor(Math.min(...bpm) - 2), hi = Math.ceil(Math.max(...bpm) + 2);
    ctx.fillStyle = "#8fa3b0";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(String(hi), 4, 12);
    ctx.fillText(String(lo), 4, h - 4);
    ctx.strokeStyle = "#9fc3e0";
    ctx.lineWidth = 1.6;
    line(ctx, pts, 1, lo, hi, x, h);
  }
  ctx.strokeStyle = "#a9c9a4";
  ctx.lineWidth = 1.2;
  line(ctx, pts, 2, 0, 100, x, h);
}

function onMarker(m) {
  const t = tiles.get(m.key);
  if (!t) return;
  t.parts.status.className = "mark-status " + m.state;
  t.parts.status.textContent = (m.label ? "“" + m.label + "” " : "") + m.text;
  t.parts.status.dataset.state = m.state;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + base + "/ws");
  socket.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "hello") {
      words = msg.words;
      const list = document.getElementById("marker-words");
      list.replaceChildren(...["suggest_hotspot", "suggest_rescript", "suggest_calm"].map((k) => {
        const o = el("option");
        o.value = words[k];
        return o;
      }));
      for (const m of msg.tiles) showTile(m.tile, m.points);
    } else if (msg.type === "tile") {
      showTile(msg.tile, msg.points);
    } else if (msg.type === "marker") {
      onMarker(msg);
    }
  });
  socket.addEventListener("close", () => {
    const banner = document.getElementById("banner");
    banner.textContent = words.lost || "Connection lost.";
    banner.hidden = false;
    for (const t of tiles.values()) t.parts.button.disabled = true;
  });
}

window.addEventListener("resize", () => { for (const t of tiles.values()) draw(t); });
connect();

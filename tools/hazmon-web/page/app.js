// hazmon-web's page: draws each "picture" the server sends on /events.
// A stale picture must never look live: the page says STALE as soon as
// the stream errors, nothing arrives for STREAM_MS, hazmond is not
// connected, or hazmond's data is older than DATA_MS.
"use strict";

const STREAM_MS = 5000;	// the server sends something at least every 2 s
const DATA_MS = 8000;	// hazmon-web asks hazmond every 2 s
let pic = null, lastMsg = 0, streamOk = false, plan = null, busFilter = "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function row(cells, cls) {
  const tr = el("tr", cls);
  for (const c of cells) {
    const td = el("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}
function fill(tbody, rows) { tbody.replaceChildren(...rows); }
function hms(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
}
function age(iso) {
  if (!iso || !pic) return "?";
  let s = Math.max(0, (Date.parse(pic.now) - Date.parse(iso)) / 1000);
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}
function num(v) {
  if (typeof v !== "number") return "—";
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
}
function sensorClass(s) {
  if (s.quality === "out_of_service") return "oos";
  if (s.alarm || (s.alarm_state && s.alarm_state !== "normal"))
    return "alarm" + (s.unacknowledged > 0 ? " unack" : "");
  if (s.fault || s.quality === "fault" || s.quality === "stale") return "fault";
  if (s.quality === "ok") return "ok";
  return "unknown";
}
function stateText(s) {
  if (s.quality === "out_of_service") return "out of service" + (s.fault ? " (" + s.fault + ")" : "");
  if (s.alarm) return "ALARM " + s.alarm + (s.unacknowledged > 0 ? " — unacknowledged" : "");
  if (s.alarm_state && s.alarm_state !== "normal") return s.alarm_state.replace(/_/g, " ");
  if (s.fault) return "fault: " + s.fault;
  if (s.quality === "stale") return "stale";
  if (s.quality === "ok") return "normal";
  return "not read yet";
}

function setLive() {
  const body = document.body, pill = document.getElementById("live");
  let state = "live", why = "";
  const now = Date.now();
  if (!streamOk) { state = "stale"; why = "the page lost its connection to hazmon-web"; }
  else if (now - lastMsg > STREAM_MS) { state = "stale"; why = "nothing from hazmon-web for " + Math.round((now - lastMsg) / 1000) + " s"; }
  else if (!pic) { state = "stale"; why = "no picture yet"; }
  else if (!pic.up) { state = "offline"; why = "hazmon-web cannot reach hazmond"; }
  else if (!pic.synced) { state = "stale"; why = "hazmond is sending its snapshot"; }
  else if (pic.updated && Date.parse(pic.now) - Date.parse(pic.updated) > DATA_MS) {
    state = "stale"; why = "hazmond has said nothing for " + age(pic.updated);
  }
  if (state !== "live" && pic && pic.updated) why += "; picture from " + hms(pic.updated);
  body.dataset.live = state;
  pill.className = "pill " + state;
  pill.textContent = state === "live" ? "LIVE" : state === "offline" ? "OFFLINE" : "STALE";
  document.getElementById("stale-why").textContent = why;
  document.getElementById("clock").textContent = new Date().toLocaleTimeString([], { hour12: false });
}

// The table NAMEs with its rows, its count, or "No NAMEs." when empty.
function showList(name, rows) {
  fill(document.querySelector("#" + name + "s tbody"), rows);
  document.getElementById(name + "-count").textContent = rows.length;
  document.getElementById("no-" + name + "s").hidden = rows.length > 0;
  document.getElementById(name + "s").hidden = rows.length === 0;
}

function drawAlarms(byId) {
  const rows = [];
  for (const a of pic.alarms || []) {
    const s = byId[a.sensor] || {};
    const who = el("span");
    who.appendChild(el("strong", null, a.sensor));
    if (s.name && s.name !== s.id) who.appendChild(el("div", "dim", s.name));
    const marks = el("span");
    if (a.shelved) marks.appendChild(el("span", "mark", "SHELVED"));
    if (a.out_of_service) marks.appendChild(el("span", "mark", "OOS"));
    if (a.latch) marks.appendChild(el("span", "mark", "latched"));
    const st = a.state || "";
    const cls = "alarm " + (st.endsWith("_unacknowledged") ? "unack" : "ack") +
      (st.startsWith("returned") ? " returned" : "");
    const value = num(a.value) + " " + (a.unit || "") + " / " + num(a.setpoint);
    const tr = row([who, a.level, el("span", "prio-" + a.priority, a.priority),
      st.replace(/_/g, " "), value, hms(a.since) + " (" + age(a.since) + ")", marks], cls);
    tr.dataset.sensor = a.sensor; tr.dataset.level = a.level; tr.dataset.state = st;
    rows.push(tr);
  }
  showList("alarm", rows);
}

function drawFaults(sensors) {
  const rows = [];
  for (const s of sensors) {
    if (!(s.fault || s.quality === "fault" || s.quality === "stale")) continue;
    const reason = s.fault || s.quality;
    const tr = row([s.id + (s.name && s.name !== s.id ? " — " + s.name : ""), reason, s.error || "",
      s.fault_since ? age(s.fault_since) : "since start"], "fault");
    tr.dataset.sensor = s.id; tr.dataset.fault = reason;
    rows.push(tr);
  }
  showList("fault", rows);
}

function drawTiles(sensors) {
  const sel = document.getElementById("bus-filter");
  const buses = [...new Set(sensors.map(s => s.bus).filter(Boolean))].sort();
  const have = [...sel.options].map(o => o.value).slice(1);
  if (have.join("\n") !== buses.join("\n")) {
    sel.replaceChildren(el("option", null, "all"));
    sel.options[0].value = "";
    for (const b of buses) { const o = el("option", null, b); o.value = b; sel.appendChild(o); }
    sel.value = buses.includes(busFilter) ? busFilter : "";
  }
  const tiles = [];
  for (const s of sensors) {
    if (busFilter && s.bus !== busFilter) continue;
    const t = el("div", "tile " + sensorClass(s));
    t.dataset.sensor = s.id;
    t.appendChild(el("div", "id", s.id));
    t.appendChild(el("div", "name", (s.name && s.name !== s.id ? s.name : "") + (s.bus ? " · " + s.bus + "/" + s.slave : "")));
    t.appendChild(el("div", "value", num(s.value) + " " + (s.unit || "")));
    t.appendChild(el("div", "state", stateText(s)));
    tiles.push(t);
  }
  document.getElementById("tiles").replaceChildren(...tiles);
}

function drawPlan(sensors) {
  if (!plan || !plan.image) return;
  const box = document.getElementById("plan");
  box.querySelectorAll(".dot").forEach(d => d.remove());
  for (const s of sensors) {
    const p = plan.points[s.id];
    if (!p) continue;
    const d = el("div", "dot " + sensorClass(s));
    d.style.left = (p[0] * 100) + "%"; d.style.top = (p[1] * 100) + "%";
    d.title = s.id + ": " + stateText(s);
    d.dataset.sensor = s.id;
    box.appendChild(d);
  }
}

function drawStatus(st) {
  const bodyB = document.querySelector("#buses tbody"), bodyD = document.querySelector("#dests tbody");
  if (!st) { fill(bodyB, []); fill(bodyD, []); return; }
  document.getElementById("site-name").textContent = (st.site && st.site.name) || (st.site && st.site.id) || "hazmon";
  document.getElementById("site-id").textContent = st.site && st.site.name ? st.site.id : "";
  document.title = "hazmon — " + document.getElementById("site-name").textContent;
  fill(bodyB, (st.buses || []).map(b => {
    const slaves = el("span");
    for (const s of b.slaves || []) {
      slaves.appendChild(el("span", s.failing ? "bad-t" : "ok-t",
        "#" + s.slave + " " + (s.failing ? "FAILING " : "") + hms(s.last_ok) + "  "));
    }
    return row([b.name + " (" + b.type + " " + (b.endpoint || "") + ")",
      el("span", b.connected ? "ok-t" : "bad-t", b.connected ? "up" : "DOWN"),
      b.requests, b.failed, slaves]);
  }));
  fill(bodyD, (st.destinations || []).map(d => row([d.name, d.host + ":" + d.port,
    el("span", d.connected ? "ok-t" : "bad-t", d.connected ? "connected" : "DISCONNECTED"),
    el("span", d.undelivered > 0 ? "warn-t" : "", d.undelivered)])));
  const h = st.health || {}, dl = document.getElementById("health"), items = [];
  const put = (k, v, bad) => { items.push(el("dt", null, k)); items.push(el("dd", bad ? "bad-t" : "", v)); };
  put("alarms in 10 min", h.alarms_10min);
  put("flood", h.flood ? "FLOOD" : "no", h.flood);
  put("chattering sensors", h.chattering, h.chattering > 0);
  put("stale sensors", h.stale, h.stale > 0);
  if (st.alarms) put("active / unacknowledged", st.alarms.active + " / " + st.alarms.unacknowledged, st.alarms.unacknowledged > 0);
  if (st.ledger) put("events recorded", st.ledger.last_seq);
  put("hazmond", "version " + st.version + ", up " + Math.round((st.uptime_s || 0) / 60) + " min");
  dl.replaceChildren(...items);
}

function drawEvents(evs) {
  const list = [...(evs || [])].reverse().map(e => {
    const li = el("li", e.kind === "alarm" ? "" : "warn-t",
      hms(e.ts) + "  " + e.sensor + "  " + e.kind + " " + e.event +
      (e.level ? " " + e.level : "") + (e.actor ? " by " + e.actor : ""));
    return li;
  });
  document.getElementById("events").replaceChildren(...list);
}

function render() {
  if (!pic) return;
  const sensors = pic.sensors || [], byId = {};
  for (const s of sensors) byId[s.id] = s;
  document.getElementById("updated").textContent = hms(pic.updated);
  drawStatus(pic.status);
  drawAlarms(byId);
  drawFaults(sensors);
  drawTiles(sensors);
  drawPlan(sensors);
  drawEvents(pic.events);
  setLive();
}

function connect() {
  const es = new EventSource("/events");
  es.onopen = () => { streamOk = true; };
  es.onerror = () => { streamOk = false; setLive(); };
  es.addEventListener("picture", e => {
    try { pic = JSON.parse(e.data); } catch (x) { return; }
    lastMsg = Date.now(); streamOk = true;
    render();
  });
  es.addEventListener("alive", () => { lastMsg = Date.now(); streamOk = true; setLive(); });
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("bus-filter").addEventListener("change", e => {
    busFilter = e.target.value; render();
  });
  fetch("/api/plan").then(r => r.json()).then(p => {
    plan = p;
    if (p && p.image) {
      document.getElementById("plan-img").src = p.image;
      document.getElementById("plan-box").hidden = false;
      render();
    }
  }).catch(() => {});
  setInterval(setLive, 500);
  setLive();
  connect();
});

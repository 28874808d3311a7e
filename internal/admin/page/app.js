// Drawbridge built-in admin page. It uses only the public admin REST API
// (the same one dpwebadmin uses), relative to this page: "api/...".
// Credentials are kept in sessionStorage and sent as HTTP Basic with
// X-Requested-With so that failed logins do not pop up a browser dialog.
// All server data is inserted with textContent, never as HTML.
"use strict";

const state = { auth: sessionStorage.getItem("dbAdminAuth") || "", tab: "status", session: null, timer: null };

const $ = (sel) => document.querySelector(sel);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ""));
  return e;
}

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "X-Requested-With": "XMLHttpRequest" };
  if (state.auth) headers["Authorization"] = "Basic " + state.auth;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch("api/" + path, init);
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
  if (res.status === 401) { showLogin("Wrong user name or password."); throw new APIError(401, "Unauthorized"); }
  if (!res.ok) throw new APIError(res.status, (data && data.message) || res.statusText);
  return data;
}

function showError(err) {
  const p = $("#error");
  if (!err) { p.hidden = true; return; }
  if (err.status === 401) return;
  p.textContent = err.message || String(err);
  p.hidden = false;
}

function notice(msg) {
  const p = $("#notice");
  p.textContent = msg;
  p.hidden = !msg;
  if (msg) setTimeout(() => { if (p.textContent === msg) p.hidden = true; }, 4000);
}

// run wraps an async action: errors are shown, success clears them.
async function run(fn) {
  try { await fn(); showError(null); } catch (e) { showError(e); }
}

// confirmClick turns a button into a two-step button: the first click
// arms it, the second runs fn.
function confirmButton(label, cls, fn) {
  const b = el("button", { class: cls, type: "button" }, label);
  b.addEventListener("click", () => {
    if (!b.classList.contains("confirm")) {
      b.classList.add("confirm");
      b.textContent = "Confirm " + label.toLowerCase();
      setTimeout(() => { b.classList.remove("confirm"); b.textContent = label; }, 5000);
      return;
    }
    run(fn);
  });
  return b;
}

function showLogin(msg) {
  clearInterval(state.timer);
  state.auth = "";
  sessionStorage.removeItem("dbAdminAuth");
  $("#nav").hidden = true;
  document.querySelectorAll(".tab").forEach((t) => (t.hidden = true));
  $("#login").hidden = false;
  if (msg) { $("#error").textContent = msg; $("#error").hidden = false; }
}

async function start() {
  $("#login").hidden = true;
  $("#nav").hidden = false;
  document.body.dataset.ready = "1";
  await showTab(location.hash.slice(1) || "status");
}

async function showTab(tab) {
  if (!document.getElementById("tab-" + tab)) tab = "status";
  state.tab = tab;
  if (location.hash.slice(1) !== tab) history.replaceState(null, "", "#" + tab);
  document.querySelectorAll("nav button[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  document.querySelectorAll(".tab").forEach((t) => (t.hidden = t.id !== "tab-" + tab));
  clearInterval(state.timer);
  await refresh();
  if (tab === "status" || tab === "sessions" || tab === "users") state.timer = setInterval(refresh, 3000);
}

async function refresh() {
  await run(async () => {
    switch (state.tab) {
      case "status": return loadStatus();
      case "sessions": return loadSessions();
      case "users": return loadUsers();
      case "settings": return loadSettings();
      case "bans": return loadBans();
      case "accounts": return loadAccounts();
      case "log": return loadLog();
    }
  });
}

function fmtBytes(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + " KiB";
  return n + " B";
}

function fmtTime(s) { return s ? new Date(s).toLocaleString() : ""; }

async function loadStatus() {
  const s = await api("GET", "status");
  const dl = $("#status-list");
  dl.replaceChildren();
  const rows = [["Started", fmtTime(s.started)], ["Sessions", s.sessions + " / " + s.maxSessions], ["Connections", s.users], ["Host", s.ext_host + ":" + s.ext_port]];
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
}

async function loadSessions() {
  const list = await api("GET", "sessions");
  const tb = $("#sessions-table tbody");
  tb.replaceChildren();
  $("#sessions-empty").hidden = list.length > 0;
  for (const s of list) {
    const flags = [];
    if (s.hasPassword) flags.push("password");
    if (s.persistent) flags.push("persistent");
    if (s.nsfm) flags.push("NSFM");
    if (s.unlisted) flags.push("unlisted");
    if (s.closed) flags.push("closed");
    const tr = el("tr", { class: "clickable" + (state.session === s.id ? " selected" : ""), dataset: { id: s.id } },
      el("td", {}, s.title || "(untitled)"),
      el("td", {}, s.alias ? s.alias : s.id),
      el("td", { class: "user-count" }, s.userCount + " / " + s.maxUserCount),
      el("td", {}, s.founder),
      el("td", {}, fmtBytes(s.size)),
      el("td", {}, ...flags.map((f) => el("span", { class: "tag" }, f))),
      el("td", {}, fmtTime(s.startTime)));
    tr.addEventListener("click", () => { state.session = s.id; run(loadSessionDetail); });
    tb.append(tr);
  }
  if (state.session) {
    if (list.some((s) => s.id === state.session)) await loadSessionDetail();
    else { state.session = null; $("#session-detail").hidden = true; }
  }
}

async function loadSessionDetail() {
  const id = state.session;
  const s = await api("GET", "sessions/" + encodeURIComponent(id));
  const box = $("#session-detail");
  box.hidden = false;
  box.dataset.id = s.id;
  $("#sd-title").textContent = s.title || "(untitled)";
  $("#sd-id").textContent = "ID " + s.id + (s.alias ? " · alias " + s.alias : "") + " · " + fmtBytes(s.size) + " of " + fmtBytes(s.maxSize);
  document.querySelectorAll("#sessions-table tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
  const tb = $("#sd-users tbody");
  tb.replaceChildren();
  for (const u of s.users || []) {
    const roles = [];
    if (u.op) roles.push("op");
    if (u.trusted) roles.push("trusted");
    if (u.mod) roles.push("mod");
    if (u.muted) roles.push("muted");
    if (u.browser) roles.push("browser");
    const base = "sessions/" + encodeURIComponent(s.id) + "/" + u.id;
    const actions = el("td", {},
      el("button", { class: "secondary", type: "button", onclick: () => run(async () => { await api("PUT", base, { op: !u.op }); await loadSessionDetail(); }) }, u.op ? "Deop" : "Op"),
      el("button", { class: "secondary", type: "button", onclick: () => run(async () => { await api("PUT", base, { trusted: !u.trusted }); await loadSessionDetail(); }) }, u.trusted ? "Untrust" : "Trust"),
      el("button", { class: "secondary", type: "button", onclick: () => run(async () => {
        const m = prompt("Message to " + u.name);
        if (m) { await api("PUT", base, { message: m }); notice("Message sent."); }
      }) }, "Message"),
      confirmButton("Kick", "kick", async () => { await api("DELETE", base); notice(u.name + " was kicked."); await loadSessionDetail(); }),
      confirmButton("Ban IP", "danger", async () => {
        const exp = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 19).replace("T", " ");
        await api("POST", "banlist", { ip: u.ip, subnet: 0, expires: exp, comment: "Banned from session " + (s.alias || s.id) + " as " + u.name });
        await api("DELETE", base);
        notice(u.name + " was kicked and " + u.ip + " banned for 7 days.");
        await loadSessionDetail();
      }));
    tb.append(el("tr", { dataset: { user: u.name, id: u.id } }, el("td", {}, u.id), el("td", { class: "user-name" }, u.name), el("td", {}, u.ip), el("td", {}, roles.join(", ")), actions));
  }
  const f = $("#sd-form");
  if (document.activeElement?.form !== f) {
    f.title.value = s.title || "";
    f.maxUserCount.value = s.maxUserCount;
    f.password.value = "";
    for (const k of ["nsfm", "persistent", "authOnly", "unlisted", "idleOverride"]) f[k].checked = !!s[k];
  }
}

async function loadUsers() {
  const list = await api("GET", "users");
  const tb = $("#users-table tbody");
  tb.replaceChildren();
  for (const u of list) {
    tb.append(el("tr", {}, el("td", {}, u.uid), el("td", {}, u.name || ""), el("td", {}, u.ip), el("td", {}, u.state), el("td", {}, u.session || ""),
      el("td", {}, confirmButton("Disconnect", "danger", async () => { await api("DELETE", "users/" + encodeURIComponent(u.uid)); await loadUsers(); }))));
  }
}

async function loadSettings() {
  const s = await api("GET", "server");
  const f = $("#settings-form");
  f.replaceChildren();
  $("#settings-locked").hidden = !s._locked;
  for (const k of Object.keys(s).sort()) {
    if (k.startsWith("_")) continue;
    const v = s[k];
    let input;
    if (typeof v === "boolean") input = el("input", { type: "checkbox", name: k });
    else if (typeof v === "number") input = el("input", { type: "number", name: k, min: "0", step: "1" });
    else input = el("input", { name: k });
    if (typeof v === "boolean") input.checked = v; else input.value = v;
    input.dataset.type = typeof v;
    f.append(el("label", {}, k, input));
  }
  f.append(el("button", { type: "submit" }, "Save settings"));
}

async function saveSettings(ev) {
  ev.preventDefault();
  const body = {};
  for (const input of ev.target.querySelectorAll("input")) {
    const t = input.dataset.type;
    body[input.name] = t === "boolean" ? input.checked : t === "number" ? Number(input.value) : input.value;
  }
  await run(async () => { await api("PUT", "server", body); notice("Settings saved."); await loadSettings(); });
}

async function loadBans() {
  const list = await api("GET", "banlist");
  const tb = $("#bans-table tbody");
  tb.replaceChildren();
  for (const b of list) {
    tb.append(el("tr", {}, el("td", {}, b.id), el("td", {}, b.ip), el("td", {}, b.subnet), el("td", {}, b.expires), el("td", {}, b.comment), el("td", {}, b.added),
      el("td", {}, confirmButton("Remove", "danger", async () => { await api("DELETE", "banlist/" + b.id); await loadBans(); }))));
  }
  const exp = $("#ban-form").expires;
  if (!exp.value) exp.value = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 19).replace("T", " ");
}

async function loadAccounts() {
  const list = await api("GET", "accounts");
  const tb = $("#accounts-table tbody");
  tb.replaceChildren();
  for (const a of list) {
    tb.append(el("tr", {}, el("td", {}, a.id), el("td", {}, a.username), el("td", {}, a.flags), el("td", {}, a.locked ? "yes" : "no"),
      el("td", {},
        el("button", { class: "secondary", type: "button", onclick: () => run(async () => { await api("PUT", "accounts/" + a.id, { locked: !a.locked }); await loadAccounts(); }) }, a.locked ? "Unlock" : "Lock"),
        confirmButton("Delete", "danger", async () => { await api("DELETE", "accounts/" + a.id); await loadAccounts(); }))));
  }
}

async function loadLog() {
  const f = $("#log-form");
  const q = new URLSearchParams();
  for (const k of ["contains", "user", "session", "page"]) if (f[k].value) q.set(k, f[k].value);
  const list = await api("GET", "log?" + q);
  const tb = $("#log-table tbody");
  tb.replaceChildren();
  for (const e of list) {
    tb.append(el("tr", {}, el("td", {}, fmtTime(e.timestamp)), el("td", {}, e.level), el("td", {}, e.topic), el("td", {}, e.session || ""), el("td", {}, e.user || ""), el("td", {}, e.message)));
  }
}

function formObject(form) {
  const o = {};
  for (const [k, v] of new FormData(form)) o[k] = v;
  return o;
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const user = $("#login-user").value, pass = $("#login-pass").value;
    state.auth = btoa(unescape(encodeURIComponent(user + ":" + pass)));
    try {
      await api("GET", "status");
      sessionStorage.setItem("dbAdminAuth", state.auth);
      showError(null);
      await start();
    } catch (e) { showError(e); }
  });
  $("#logout").addEventListener("click", () => showLogin(""));
  document.querySelectorAll("nav button[data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("#settings-form").addEventListener("submit", saveSettings);
  $("#broadcast-send").addEventListener("click", () => run(async () => {
    const text = $("#broadcast-text").value;
    if (!text) return;
    await api("PUT", "sessions", $("#broadcast-alert").checked ? { alert: text } : { message: text });
    $("#broadcast-text").value = "";
    notice("Message sent to every session.");
  }));
  $("#sd-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { title: f.title.value, maxUserCount: Number(f.maxUserCount.value) };
    if (f.password.value) body.password = f.password.value;
    for (const k of ["nsfm", "persistent", "authOnly", "unlisted", "idleOverride"]) body[k] = f[k].checked;
    run(async () => { await api("PUT", "sessions/" + encodeURIComponent(state.session), body); notice("Session updated."); await loadSessions(); });
  });
  $("#sd-send").addEventListener("click", () => run(async () => {
    const text = $("#sd-message").value;
    if (!text) return;
    await api("PUT", "sessions/" + encodeURIComponent(state.session), { message: text });
    $("#sd-message").value = "";
    notice("Message sent.");
  }));
  $("#sd-terminate").replaceWith(confirmButton("Terminate session", "danger", async () => {
    const reason = $("#sd-reason").value;
    await api("DELETE", "sessions/" + encodeURIComponent(state.session) + (reason ? "?reason=" + encodeURIComponent(reason) : ""));
    state.session = null;
    $("#session-detail").hidden = true;
    notice("Session terminated.");
    await loadSessions();
  }));
  $("#ban-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const o = formObject(ev.target);
    o.subnet = Number(o.subnet || 0);
    run(async () => { await api("POST", "banlist", o); ev.target.reset(); notice("Ban added."); await loadBans(); });
  });
  $("#account-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(async () => { await api("POST", "accounts", formObject(ev.target)); ev.target.reset(); notice("Account created."); await loadAccounts(); });
  });
  $("#log-form").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });

  // Try the stored credentials, or no credentials (server without auth).
  api("GET", "status").then(start, (e) => { if (e.status !== 401) showError(e); showLogin(""); $("#error").hidden = e.status === 401 ? true : $("#error").hidden; });
});

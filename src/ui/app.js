/*
 * alertcap's web console: the portal's packet-capture page on the REST
 * API alone. No framework: a hash router, a few views built with the
 * DOM (never innerHTML, so nothing the API returns is ever markup), and
 * the bearer token in this tab's sessionStorage, sent as Authorization.
 */
"use strict";

const TOKEN_KEY = "alertcap.token";
const NODE_KEY = "alertcap.node";
const POLL_MS = 2000;
const STATUSES = ["NotStarted", "Running", "Stopped", "Error"];

const ui = {
  localNode: "",      /* the node this page is served by (/healthz) */
  node: "",           /* the node the views act on */
  timer: null,        /* the current view's poll */
  view: 0,            /* bumped on each route: late answers are dropped */
};

/* ---- DOM helpers ---- */

/* An element: h("td", {class: "num"}, "12", childNode, ...). */
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

function $(id) { return document.getElementById(id); }

function fmtBytes(n) {
  if (n === null || n === undefined) return "";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(1)) + " " + u[i];
}

function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? s : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function statusCell(r) {
  return h("span", { class: "status status-" + r.status }, r.status,
    r.stop_reason ? h("span", { class: "muted" }, " · " + r.stop_reason) : null);
}

function targetText(t) {
  if (!t) return "";
  let s = t.interface || "";
  if (t.netns) s += " in netns " + t.netns;
  if (t.pid) s += " in pid " + t.pid;
  if (t.container) s += " in container " + String(t.container).slice(0, 12);
  return s;
}

function triggerText(tr) {
  if (!tr || tr.kind === "manual" || !tr.kind) return tr && tr.kind ? tr.kind : "";
  const parts = [];
  if (tr.rule) parts.push("rule " + tr.rule);
  if (tr.alert) parts.push("alert " + tr.alert);
  return parts.length ? parts.join(", ") : tr.kind;
}

function filterText(r) {
  const f = (r.filters || []).map((x) => {
    const p = [x.protocol || "Any"];
    for (const k of ["local_ip", "local_port", "remote_ip", "remote_port"])
      if (x[k]) p.push(k.replace("_", " ") + " " + x[k]);
    return p.join(" ");
  });
  if (r.bpf) f.push("bpf: " + r.bpf);
  return f.length ? f.join("; ") : "everything";
}

/* ---- the API ---- */

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function base(node) {
  node = node === undefined ? ui.node : node;
  return !node || node === ui.localNode ? "/v1" : "/v1/nodes/" + encodeURIComponent(node);
}

/*
 * A request with the token; JSON in and out. 401 opens the sign-in box
 * and rejects; other errors reject with the API's code and message.
 * opts.etag: sent as If-None-Match; a 304 resolves to {notModified}.
 */
async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.etag) headers["If-None-Match"] = opts.etag;
  const res = await fetch(path, {
    method, headers, cache: "no-store",
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (res.status === 401) {
    signIn(token ? "That token was refused." : "");
    throw new ApiError(401, "Unauthorized", "sign in first");
  }
  if (res.status === 304) return { notModified: true, etag: opts.etag };
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: String(res.status), message: text.trim() || res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return { data, etag: res.headers.get("ETag") };
}

/* ---- sign in ---- */

function signIn(why) {
  const d = $("signin");
  $("signin-error").textContent = why || "";
  if (!d.open) d.showModal();
  $("token").focus();
}

function setupDialogs() {
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token").value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    $("token").value = "";
    $("signin").close();
    loadNodes().then(route);
  });
  $("signin").addEventListener("cancel", (ev) => ev.preventDefault());
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stopPoll();
    $("view").replaceChildren(h("p", { class: "muted" }, "Signed out."));
    signIn("");
  });
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
}

/* Asks before a delete; resolves to null (cancelled) or {files}. */
function confirmDelete(names) {
  return new Promise((resolve) => {
    const d = $("confirm");
    $("confirm-title").textContent = names.length === 1 ? "Delete " + names[0] + "?" : "Delete " + names.length + " captures?";
    $("confirm-text").textContent = "The capture " + (names.length === 1 ? "is" : "s are") +
      " stopped if running and " + (names.length === 1 ? "its record is" : "their records are") +
      " forgotten. The capture file is kept on the node (it counts against the disk budget until retention removes it) unless you tick the box.";
    $("confirm-files").checked = false;
    d.returnValue = "";
    d.addEventListener("close", function done() {
      d.removeEventListener("close", done);
      resolve(d.returnValue === "cancel" || d.returnValue === "" ? null : { files: $("confirm-files").checked });
    });
    $("confirm-form").onsubmit = (ev) => { ev.preventDefault(); d.close("ok"); };
    d.showModal();
  });
}

/* ---- actions shared by the list and the detail ---- */

async function stopCapture(name, node) {
  return api("POST", base(node) + "/captures/" + encodeURIComponent(name) + "/stop");
}

async function deleteCapture(name, node, files) {
  return api("DELETE", base(node) + "/captures/" + encodeURIComponent(name) + (files ? "?file=true" : ""));
}

/* Fetches a file with the token and hands it to the browser as a download. */
async function download(name, node, seq) {
  const q = seq !== undefined ? "?seq=" + seq : "";
  const res = await api("GET", base(node) + "/captures/" + encodeURIComponent(name) + "/file" + q, undefined, { raw: true });
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = h("a", { href: URL.createObjectURL(blob), download: m ? m[1] : name + ".pcapng" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function banner(kind, text) {
  return h("div", { class: "banner " + kind, role: kind === "error" ? "alert" : "status" }, text);
}

/* ---- polling ---- */

function stopPoll() {
  if (ui.timer) clearTimeout(ui.timer);
  ui.timer = null;
}

function poll(fn) {
  const view = ui.view;
  const tick = async () => {
    if (view !== ui.view) return;
    try { await fn(); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) console.warn(e.message); }
    if (view === ui.view) ui.timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

/* ---- the captures list ---- */

const listState = { sort: "created_at", desc: true, status: "", rule: "", selected: new Set(), records: [], etag: null };

const COLUMNS = [
  ["name", "Name"], ["node", "Node"], ["status", "Status"], ["target", "Target"],
  ["trigger", "Trigger"], ["packets", "Packets", "num"], ["bytes", "Bytes", "num"],
  ["drops", "Drops", "num"], ["created_at", "Created"], ["started_at", "Started"],
  ["stopped_at", "Stopped"], ["filters", "Filters"],
];

function sortKey(r, k) {
  switch (k) {
  case "target": return targetText(r.target);
  case "trigger": return triggerText(r.trigger);
  case "drops": return (r.kernel_drops || 0) + (r.if_drops || 0);
  case "filters": return filterText(r);
  default: return r[k] === null || r[k] === undefined ? "" : r[k];
  }
}

function viewCaptures() {
  const v = $("view");
  const msg = h("div", { id: "list-message" });
  const statusSel = h("select", { id: "filter-status", "aria-label": "Status" },
    h("option", { value: "" }, "All statuses"), STATUSES.map((s) => h("option", { value: s }, s)));
  statusSel.value = listState.status;
  const ruleSel = h("select", { id: "filter-rule", "aria-label": "Rule" }, h("option", { value: "" }, "All rules"));
  const btn = (id, text, fn, cls) => h("button", { type: "button", id, class: cls, onclick: fn }, text);
  const bStop = btn("action-stop", "Stop", () => act("stop"));
  const bDel = btn("action-delete", "Delete", () => act("delete"));
  const bDown = btn("action-download", "Download", () => act("download"));
  const table = h("table", { id: "captures" });
  v.replaceChildren(
    h("h1", {}, "Packet capture", h("span", { class: "muted" }, ui.node && ui.node !== ui.localNode ? " on " + ui.node : "")),
    h("div", { class: "toolbar" },
      h("a", { href: "#/add", id: "action-add" }, h("button", { type: "button", class: "primary", tabindex: "-1" }, "+ Add")),
      bStop, bDel, bDown, h("span", { class: "grow" }), statusSel, ruleSel),
    msg, table);
  listState.etag = null;
  statusSel.addEventListener("change", () => { listState.status = statusSel.value; listState.etag = null; refresh(); });
  ruleSel.addEventListener("change", () => { listState.rule = ruleSel.value; listState.etag = null; refresh(); });

  function selected() { return listState.records.filter((r) => listState.selected.has(r.name)); }

  function buttons() {
    const s = selected();
    bStop.disabled = !s.length || !s.every((r) => r.status === "Running");
    bDel.disabled = !s.length;
    /* One finished file of this node; a ring's files are each in its detail. */
    bDown.disabled = s.length !== 1 || s[0].status === "Running" || s[0].status === "NotStarted" ||
      !s[0].file || (s[0].files || []).length > 0 || (ui.node && ui.node !== ui.localNode);
  }

  async function act(what) {
    const s = selected();
    msg.replaceChildren();
    try {
      if (what === "stop") for (const r of s) await stopCapture(r.name);
      else if (what === "delete") {
        const ok = await confirmDelete(s.map((r) => r.name));
        if (!ok) return;
        for (const r of s) { await deleteCapture(r.name, undefined, ok.files); listState.selected.delete(r.name); }
      } else if (what === "download") await download(s[0].name);
    } catch (e) {
      msg.replaceChildren(banner("error", e.message));
    }
    listState.etag = null;
    refresh();
  }

  function render() {
    const rules = new Set(listState.records.map((r) => r.trigger && r.trigger.rule).filter(Boolean));
    if (listState.rule) rules.add(listState.rule);
    const have = new Set([...ruleSel.options].map((o) => o.value));
    for (const r of [...rules].sort()) if (!have.has(r)) ruleSel.append(h("option", { value: r }, r));
    ruleSel.value = listState.rule;
    const rows = [...listState.records].sort((a, b) => {
      const x = sortKey(a, listState.sort), y = sortKey(b, listState.sort);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return listState.desc ? -c : c;
    });
    const all = h("input", { type: "checkbox", "aria-label": "Select all", id: "select-all" });
    all.checked = rows.length > 0 && rows.every((r) => listState.selected.has(r.name));
    all.addEventListener("change", () => {
      for (const r of rows) all.checked ? listState.selected.add(r.name) : listState.selected.delete(r.name);
      render();
    });
    const head = h("tr", {}, h("th", {}, all), COLUMNS.map(([k, label, cls]) => h("th", {
      class: ["sortable", cls, listState.sort === k ? (listState.desc ? "sorted-desc" : "sorted-asc") : ""].filter(Boolean).join(" "),
      "data-sort": k,
      onclick: () => { if (listState.sort === k) listState.desc = !listState.desc; else { listState.sort = k; listState.desc = false; } render(); },
    }, label)));
    const body = rows.map((r) => {
      const box = h("input", { type: "checkbox", "aria-label": "Select " + r.name, "data-name": r.name });
      box.checked = listState.selected.has(r.name);
      box.addEventListener("change", () => { box.checked ? listState.selected.add(r.name) : listState.selected.delete(r.name); render(); });
      const tr = h("tr", { "data-name": r.name, class: box.checked ? "selected" : null },
        h("td", {}, box),
        h("td", {}, h("a", { href: "#/capture/" + encodeURIComponent(r.name) }, r.name)),
        h("td", {}, r.node), h("td", { class: "status-cell" }, statusCell(r)), h("td", {}, targetText(r.target)),
        h("td", {}, triggerText(r.trigger)), h("td", { class: "num" }, r.packets), h("td", { class: "num" }, fmtBytes(r.bytes)),
        h("td", { class: "num" }, (r.kernel_drops || 0) + (r.if_drops || 0)),
        h("td", {}, fmtTime(r.created_at)), h("td", {}, fmtTime(r.started_at)), h("td", {}, fmtTime(r.stopped_at)),
        h("td", { class: "mono" }, filterText(r)));
      return tr;
    });
    if (!rows.length)
      body.push(h("tr", {}, h("td", { colspan: COLUMNS.length + 1, class: "muted" },
        listState.status || listState.rule ? "No capture matches." : "No packet captures yet. Add one to start.")));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, body));
    buttons();
  }

  async function refresh() {
    const q = new URLSearchParams();
    if (listState.status) q.set("status", listState.status);
    if (listState.rule) q.set("rule", listState.rule);
    const res = await api("GET", base() + "/captures" + (q.toString() ? "?" + q : ""), undefined, { etag: listState.etag });
    if (res.notModified) return;
    listState.etag = res.etag;
    listState.records = res.data.captures || [];
    const names = new Set(listState.records.map((r) => r.name));
    for (const n of [...listState.selected]) if (!names.has(n)) listState.selected.delete(n);
    render();
  }
  render();
  poll(async () => {
    try { await refresh(); } catch (e) { if (e.status !== 401) msg.replaceChildren(banner("error", e.message)); throw e; }
  });
}

/* ---- Add ---- */

/* Shows the API's error next to the field its message names. */
function showFieldError(form, err) {
  const general = form.querySelector(".form-error");
  const m = /^([A-Za-z_][\w.\[\]]*): /.exec(err.message || "");
  let field = m ? m[1] : null;
  while (field) {
    const el = form.querySelector('[data-field="' + CSS.escape(field) + '"]');
    if (el) {
      const slot = el.closest("label, .cell") || el.parentElement;
      slot.append(h("span", { class: "field-error", "data-error-for": field, role: "alert" }, err.message));
      el.setAttribute("aria-invalid", "true");
      if (el.focus) el.focus();
      general.replaceChildren(banner("error", "The capture was not started: see " + m[1] + "."));
      return;
    }
    const cut = Math.max(field.lastIndexOf("."), field.lastIndexOf("["));
    field = cut > 0 ? field.slice(0, cut) : null;
  }
  general.replaceChildren(banner("error", err.message));
}

function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((e) => e.remove());
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  form.querySelector(".form-error").replaceChildren();
}

function field(label, input, hint) {
  return h("label", {}, label, input, hint ? h("span", { class: "hint" }, hint) : null);
}

function filterRow(list) {
  const i = list.children.length;
  const proto = h("select", { "data-field": "filters[" + i + "].protocol", "aria-label": "Protocol" },
    ["Any", "TCP", "UDP"].map((p) => h("option", { value: p }, p)));
  const cell = (k, ph) => h("div", { class: "cell" }, h("input", { "data-field": "filters[" + i + "]." + k, "aria-label": k.replace("_", " "), placeholder: ph }));
  const row = h("div", { class: "filter-row", "data-row": i },
    h("div", { class: "cell" }, proto), cell("local_ip", "10.0.0.1, 10.0.0.0/8"), cell("local_port", "80;443 or 8000-8100"),
    cell("remote_ip", "any"), cell("remote_port", "any"),
    h("button", { type: "button", class: "quiet", "aria-label": "Remove filter", onclick: () => { row.remove(); renumber(list); } }, "✕"));
  list.append(row);
}

/* Keeps filters[i] names in step with the rows after one is removed. */
function renumber(list) {
  [...list.children].forEach((row, i) => {
    row.dataset.row = i;
    row.querySelectorAll("[data-field]").forEach((el) => {
      el.dataset.field = el.dataset.field.replace(/^filters\[\d+\]/, "filters[" + i + "]");
    });
  });
}

function num(form, name) {
  const v = form.elements[name].value.trim();
  return v === "" ? undefined : Number(v);
}

async function viewAdd() {
  const v = $("view");
  const iface = h("input", { name: "interface", "data-field": "target.interface", list: "ifaces", required: true, placeholder: "eth0, any" });
  const ifaces = h("datalist", { id: "ifaces" });
  const nodeSel = h("select", { name: "node", "data-field": "target.node" });
  const filters = h("div", { id: "filters" });
  const kind = h("select", { name: "nskind", "aria-label": "Namespace kind" },
    h("option", { value: "" }, "the node itself"), h("option", { value: "netns" }, "a network namespace"),
    h("option", { value: "pid" }, "a process's namespace"), h("option", { value: "container" }, "a container"));
  const nsval = h("input", { name: "nsvalue", "data-field": "target.ns", placeholder: "name, /proc/PID/ns/net, PID or container id", disabled: true });
  const cont = h("input", { type: "checkbox", name: "continuous" });
  const contBox = h("div", { class: "grid", hidden: true },
    field("Files in the ring", h("input", { name: "file_count", type: "number", min: 1, "data-field": "continuous.file_count", placeholder: "10" })),
    field("Bytes per file", h("input", { name: "file_size_bytes", type: "number", min: 1024, "data-field": "continuous.file_size_bytes", placeholder: "104857600" })));
  const form = h("form", { class: "capture", id: "add-form", novalidate: true },
    h("div", { class: "form-error" }),
    h("fieldset", {}, h("legend", {}, "Target"),
      h("div", { class: "grid" },
        field("Capture name", h("input", { name: "name", "data-field": "name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._-]{0,79}", autocomplete: "off" }), "letters, digits, . _ -"),
        field("Node", nodeSel),
        field("Interface", iface, "from this node's interfaces, or any"),
        field("Capture inside", kind),
        field("Namespace, process or container", nsval))),
    h("fieldset", {}, h("legend", {}, "Storage"),
      h("div", { class: "grid" },
        h("label", { class: "check" }, h("input", { type: "checkbox", name: "file", checked: true, "data-field": "storage.file" }), "Keep a file on the node"),
        field("File path (optional)", h("input", { name: "path", "data-field": "storage.path", placeholder: "below captures.root" })),
        field("Storage accounts", h("input", { name: "accounts", "data-field": "storage.accounts", placeholder: "names, comma separated" }), "uploaded when the capture ends"),
        field("Format", h("select", { name: "format", "data-field": "format" }, h("option", { value: "" }, "the node's default"), h("option", { value: "pcapng" }, "pcapng"), h("option", { value: "pcap" }, "pcap"))))),
    h("fieldset", {}, h("legend", {}, "Limits"),
      h("div", { class: "grid" },
        field("Max bytes per packet", h("input", { name: "max_bytes_per_packet", type: "number", min: 0, "data-field": "max_bytes_per_packet", placeholder: "0" }), "0 = whole packets"),
        field("Max bytes per session", h("input", { name: "max_bytes_per_session", type: "number", min: 0, "data-field": "max_bytes_per_session", placeholder: "1073741824" })),
        field("Time limit (seconds)", h("input", { name: "time_limit_s", type: "number", min: 0, value: 18000, "data-field": "time_limit_s" })),
        field("Max packets", h("input", { name: "max_packets", type: "number", min: 0, "data-field": "max_packets", placeholder: "0 = no limit" })),
        field("Look back (seconds)", h("input", { name: "lookback_s", type: "number", min: 0, "data-field": "lookback_s", placeholder: "0" }), "begin in the past, from the interface's ring"),
        field("Or from (RFC 3339)", h("input", { name: "from", "data-field": "from", placeholder: "2026-12-01T10:00:00Z" })),
        h("label", { class: "check" }, cont, "Continuous: a ring of files"),
        h("label", { class: "check" }, h("input", { type: "checkbox", name: "context", "data-field": "context" }), "Record the namespace's context")),
      contBox),
    h("fieldset", {}, h("legend", {}, "Filters"),
      h("p", { class: "hint" }, "Fields of one filter must all match; any filter may. Each value is one, a list (; or ,) or a range (80-1024). None: every packet."),
      h("div", { class: "filter-row" }, ["Protocol", "Local IP", "Local port", "Remote IP", "Remote port", ""].map((t) => h("span", { class: "head" }, t))),
      filters,
      h("button", { type: "button", id: "add-filter", onclick: () => filterRow(filters) }, "+ Add filter"),
      h("div", { class: "grid" }, field("BPF expression (ANDed)", h("input", { name: "bpf", "data-field": "bpf", placeholder: "tcp[tcpflags] & tcp-syn != 0" })))),
    h("div", { class: "buttons" },
      h("a", { href: "#/captures" }, h("button", { type: "button", tabindex: "-1" }, "Cancel")),
      h("button", { type: "submit", class: "primary", id: "add-submit" }, "Start capture")));
  v.replaceChildren(h("h1", {}, "Add packet capture"), ifaces, form);
  kind.addEventListener("change", () => { nsval.disabled = !kind.value; nsval.dataset.field = kind.value ? "target." + kind.value : "target.ns"; });
  cont.addEventListener("change", () => { contBox.hidden = !cont.checked; });

  /* The fleet, and this node's interfaces. */
  const nodes = [ui.localNode];
  try { for (const n of (await api("GET", "/v1/nodes")).data.nodes || []) if (n.node && !nodes.includes(n.node)) nodes.push(n.node); } catch (e) { /* no broker: this node only */ }
  nodeSel.replaceChildren(...nodes.map((n) => h("option", { value: n }, n + (n === ui.localNode ? " (this node)" : ""))));
  nodeSel.value = ui.node || ui.localNode;
  async function loadIfaces() {
    ifaces.replaceChildren();
    if (nodeSel.value !== ui.localNode) return;
    try {
      for (const i of (await api("GET", "/v1/interfaces")).data.interfaces || [])
        ifaces.append(h("option", { value: i.name }, i.description || (i.up ? "up" : "down")));
      ifaces.append(h("option", { value: "any" }, "every interface"));
    } catch (e) { /* typed by hand then */ }
  }
  nodeSel.addEventListener("change", loadIfaces);
  loadIfaces();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const f = form.elements;
    const name = f.name.value.trim();
    /* Only the obvious slips here; the API judges the rest. */
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(name))
      return showFieldError(form, { message: "name: letters, digits, '.', '_' and '-', up to 80, starting with a letter or digit" });
    if (!f.interface.value.trim())
      return showFieldError(form, { message: "target.interface: name an interface (or any)" });
    const body = { target: { interface: f.interface.value.trim() } };
    if (kind.value && nsval.value.trim()) body.target[kind.value] = kind.value === "pid" && /^\d+$/.test(nsval.value.trim()) ? Number(nsval.value.trim()) : nsval.value.trim();
    for (const k of ["max_bytes_per_packet", "max_bytes_per_session", "time_limit_s", "max_packets", "lookback_s"]) {
      const n = num(form, k);
      if (n !== undefined) body[k] = n;
    }
    if (f.from.value.trim()) body.from = f.from.value.trim();
    if (f.bpf.value.trim()) body.bpf = f.bpf.value.trim();
    if (f.format.value) body.format = f.format.value;
    if (f.context.checked) body.context = true;
    const accounts = f.accounts.value.split(",").map((s) => s.trim()).filter(Boolean);
    body.storage = { file: f.path.value.trim() ? f.path.value.trim() : f.file.checked };
    if (accounts.length) body.storage.accounts = accounts;
    if (cont.checked) {
      body.continuous = {};
      if (num(form, "file_count") !== undefined) body.continuous.file_count = num(form, "file_count");
      if (num(form, "file_size_bytes") !== undefined) body.continuous.file_size_bytes = num(form, "file_size_bytes");
    }
    body.filters = [...filters.children].map((row) => {
      const out = {};
      row.querySelectorAll("[data-field]").forEach((el) => {
        const k = el.dataset.field.replace(/^filters\[\d+\]\./, "");
        if (el.value.trim() && !(k === "protocol" && el.value === "Any")) out[k] = el.value.trim();
      });
      if (!out.protocol) out.protocol = "Any";
      return out;
    });
    const submit = $("add-submit");
    submit.disabled = true;
    try {
      await api("PUT", base(nodeSel.value) + "/captures/" + encodeURIComponent(name), body);
      setNode(nodeSel.value);
      location.hash = "#/capture/" + encodeURIComponent(name);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) showFieldError(form, e);
    } finally {
      submit.disabled = false;
    }
  });
}

/* ---- one capture ---- */

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) =>
    [h("dt", {}, k), h("dd", { "data-fact": k }, v)]));
}

function uploadsTable(list) {
  if (!list || !list.length) return null;
  return h("table", { class: "uploads" },
    h("thead", {}, h("tr", {}, ["Account", "State", "Attempts", "Last error", "URI"].map((t) => h("th", {}, t)))),
    h("tbody", {}, list.map((u) => h("tr", {},
      h("td", {}, u.account), h("td", {}, u.state), h("td", { class: "num" }, u.attempts),
      h("td", { class: "error" }, u.last_error || ""), h("td", { class: "mono" }, u.uri || "")))));
}

function viewCapture(name) {
  const v = $("view");
  const msg = h("div", {});
  const body = h("div", { id: "detail" });
  let etag = null;
  v.replaceChildren(h("p", {}, h("a", { href: "#/captures" }, "← Packet capture")), msg, body);
  const remote = ui.node && ui.node !== ui.localNode;

  function render(r) {
    const tr = r.trigger || {};
    const act = async (what, seq) => {
      msg.replaceChildren();
      try {
        if (what === "stop") await stopCapture(r.name);
        else if (what === "download") await download(r.name, undefined, seq);
        else if (what === "delete") {
          const ok = await confirmDelete([r.name]);
          if (!ok) return;
          await deleteCapture(r.name, undefined, ok.files);
          location.hash = "#/captures";
          return;
        }
        etag = null;
        await refresh();
      } catch (e) { msg.replaceChildren(banner("error", e.message)); }
    };
    const running = r.status === "Running";
    const files = r.files || [];
    const wasOpen = body.querySelector("details.record") !== null && body.querySelector("details.record").open;
    body.replaceChildren(
      h("h1", {}, r.name, " ", statusCell(r)),
      h("div", { class: "toolbar" },
        h("button", { type: "button", id: "detail-stop", disabled: !running, onclick: () => act("stop") }, "Stop"),
        h("button", { type: "button", id: "detail-delete", onclick: () => act("delete") }, "Delete"),
        files.length ? null : h("button", { type: "button", id: "detail-download", disabled: running || !r.file || remote, onclick: () => act("download") }, "Download")),
      facts([["Node", r.node], ["Status", r.status], ["Stop reason", r.stop_reason], ["Target", targetText(r.target)],
        ["Resolved", r.resolved ? JSON.stringify(r.resolved) : null], ["Filter", filterText(r)], ["Expression", r.expression],
        ["Format", r.format], ["File", r.file], ["File state", r.file_state], ["SHA-256", r.sha256]]),
      h("h2", {}, "Trigger"),
      facts([["Kind", tr.kind], ["Rule", tr.rule], ["Alert", tr.alert], ["Severity", tr.severity], ["Source", tr.source],
        ["Starts at", fmtTime(tr.starts_at)], ["Fingerprint", tr.fingerprint],
        ["Labels", tr.labels ? h("span", {}, Object.entries(tr.labels).map(([k, x]) => h("span", { class: "tag" }, k + "=" + x))) : null]]),
      h("h2", {}, "Counters and times"),
      facts([["Packets", r.packets], ["Bytes", fmtBytes(r.bytes) + " (" + r.bytes + ")"], ["Kernel drops", r.kernel_drops],
        ["Interface drops", r.if_drops], ["Created", fmtTime(r.created_at)], ["Started", fmtTime(r.started_at)],
        ["Stopped", fmtTime(r.stopped_at)], ["Snap length", r.max_bytes_per_packet || "whole packets"],
        ["Byte limit", fmtBytes(r.max_bytes_per_session)], ["Time limit", r.time_limit_s + " s"]]),
      r.lookback ? [h("h2", {}, "Lookback"), facts(Object.entries(r.lookback).map(([k, x]) => [k, String(x)]))] : null,
      (r.errors || []).length ? [h("h2", {}, "Errors"), h("ul", {}, r.errors.map((e) => h("li", { class: "error" }, e.code + ": " + e.message)))] : null,
      h("h2", {}, "Events"),
      h("ol", { class: "timeline", id: "events" }, (r.events || []).map((e) => h("li", {},
        h("span", { class: "mono" }, fmtTime(e.at)), " ", h("b", {}, e.status || e.event || ""),
        e.stop_reason ? " " + e.stop_reason : "", e.message ? h("span", { class: "muted" }, " — " + e.message) : ""))),
      files.length ? [h("h2", {}, "Files"), h("table", { id: "files" },
        h("thead", {}, h("tr", {}, ["Seq", "State", "Packets", "Bytes", "First", "Last", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, files.map((f) => h("tr", {}, h("td", {}, f.seq), h("td", {}, f.state), h("td", { class: "num" }, f.packets),
          h("td", { class: "num" }, fmtBytes(f.bytes)), h("td", {}, fmtTime(f.first_ts)), h("td", {}, fmtTime(f.last_ts)),
          h("td", {}, f.state === "Complete" && !remote ? h("button", { type: "button", onclick: () => act("download", f.seq) }, "Download") : "")))))] : null,
      h("h2", {}, "Uploads"),
      uploadsTable(r.uploads) || h("p", { class: "muted" }, "No storage account was named."),
      r.snapshots ? [h("h2", {}, "Context"), facts([["File", r.snapshots.file], ["At start", JSON.stringify(r.snapshots.start)],
        ["At stop", JSON.stringify(r.snapshots.stop)]]), uploadsTable(r.snapshots.uploads)] : null,
      h("details", { class: "record", open: wasOpen }, h("summary", {}, "The record as JSON"), h("pre", { class: "json" }, JSON.stringify(r, null, 2))));
  }

  async function refresh() {
    const res = await api("GET", base() + "/captures/" + encodeURIComponent(name), undefined, { etag });
    if (res.notModified) return;
    etag = res.etag;
    render(res.data);
  }
  poll(async () => {
    try { await refresh(); } catch (e) {
      if (e.status === 404) { stopPoll(); ui.view++; body.replaceChildren(banner("error", "No capture named " + name + " on " + (ui.node || ui.localNode) + ".")); return; }
      if (e.status !== 401) msg.replaceChildren(banner("error", e.message));
      throw e;
    }
  });
}

/* ---- rules and the dry run ---- */

const SAMPLE_ALERT = JSON.stringify({
  version: "4", status: "firing", receiver: "alertcap", groupKey: "{}:{alertname=\"TcpRetransmitsHigh\"}",
  alerts: [{ status: "firing", labels: { alertname: "TcpRetransmitsHigh", severity: "warning", instance: "10.0.0.5:9100" },
    annotations: {}, startsAt: new Date(Date.now() - 120000).toISOString(), fingerprint: "c0ffee" }],
}, null, 2);

async function viewRules() {
  const v = $("view");
  const list = h("div", { id: "rules" }, h("p", { class: "muted" }, "Loading…"));
  const text = h("textarea", { id: "dryrun-alert", spellcheck: "false", "aria-label": "Alert payload" });
  text.value = SAMPLE_ALERT;
  const out = h("div", { id: "dryrun-result" });
  const run = h("button", { type: "button", class: "primary", id: "dryrun-run" }, "Dry run");
  v.replaceChildren(h("h1", {}, "Rules"), list,
    h("h2", {}, "Dry run"),
    h("p", { class: "muted" }, "Paste an alert as Alertmanager, Grafana, Azure Monitor or any JSON sends it: see which rules match and what would start. Nothing is started."),
    text, h("div", { class: "buttons" }, run), out);
  run.addEventListener("click", async () => {
    out.replaceChildren();
    try {
      const r = (await api("POST", "/v1/rules/test", text.value)).data;
      out.append(dryRunResult(r));
    } catch (e) { out.replaceChildren(banner("error", e.message)); }
  });
  try {
    const rules = (await api("GET", "/v1/rules")).data.rules || [];
    list.replaceChildren(rules.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Rule", "File", "Matches", "Captures"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rules.map((r) => h("tr", { "data-rule": r.name },
        h("td", {}, h("b", {}, r.name), r.enabled === false ? h("span", { class: "muted" }, " (disabled)") : ""),
        h("td", { class: "mono" }, r.file || ""),
        h("td", { class: "mono" }, JSON.stringify(r.match || {})),
        h("td", { class: "mono" }, JSON.stringify(r.capture || {}))))))
      : h("p", { class: "muted" }, "No rules are loaded (rules.dir)."));
  } catch (e) { list.replaceChildren(banner("error", e.message)); }
}

function dryRunResult(r) {
  const matched = r.matched || [];
  const starting = matched.filter((m) => m.outcome === "started").length;
  return h("div", {},
    banner("info", r.alerts + " alert(s); " + matched.length + " rule match(es); " + starting + " capture(s) would start."),
    matched.length ? h("table", { id: "dryrun-matches" },
      h("thead", {}, h("tr", {}, ["Rule", "Alert", "Outcome", "Capture", "Why", "Parameters"].map((t) => h("th", {}, t)))),
      h("tbody", {}, matched.map((m) => h("tr", { "data-rule": m.rule },
        h("td", {}, m.rule || ""), h("td", {}, m.alert || ""), h("td", { class: "outcome" }, m.outcome || ""),
        h("td", {}, m.capture || ""), h("td", {}, m.reason || ""),
        h("td", { class: "mono" }, m.capture_parameters ? JSON.stringify(m.capture_parameters) : ""))))) :
      h("p", { class: "muted" }, "No rule matches this alert."),
    h("details", {}, h("summary", {}, "The answer as JSON, with the alerts as normalised"), h("pre", { class: "json" }, JSON.stringify(r, null, 2))));
}

/* ---- nodes ---- */

async function viewNodes() {
  const v = $("view");
  const list = h("div", { id: "nodes" }, h("p", { class: "muted" }, "Loading…"));
  v.replaceChildren(h("h1", {}, "Nodes"), h("p", { class: "muted" }, "The fleet as the MQTT broker knows it. Pick a node to list and add its captures."), list);
  let nodes = [];
  let err = null;
  try { nodes = (await api("GET", "/v1/nodes")).data.nodes || []; } catch (e) { err = e; }
  if (!nodes.some((n) => n.node === ui.localNode)) nodes.unshift({ node: ui.localNode, status: "online", self: true });
  list.replaceChildren(err && err.status !== 401 ? banner("info", err.message) : "", h("table", {},
    h("thead", {}, h("tr", {}, ["Node", "Status", "Version", "Since", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, nodes.map((n) => h("tr", { "data-node": n.node },
      h("td", {}, h("b", {}, n.node), n.node === ui.localNode ? h("span", { class: "muted" }, " (this node)") : ""),
      h("td", { class: n.status === "online" ? "status status-Stopped" : "status status-Error" }, n.status || ""),
      h("td", {}, n.version || ""), h("td", {}, fmtTime(n.at)),
      h("td", {}, h("button", { type: "button", class: "list", onclick: () => { setNode(n.node); location.hash = "#/captures"; } }, "Captures"), " ",
        h("button", { type: "button", class: "add", onclick: () => { setNode(n.node); location.hash = "#/add"; } }, "Add capture")))))));
}

/* ---- routing ---- */

function setNode(n) {
  ui.node = n || ui.localNode;
  sessionStorage.setItem(NODE_KEY, ui.node);
  const sel = $("node");
  if (![...sel.options].some((o) => o.value === ui.node)) sel.append(h("option", { value: ui.node }, ui.node));
  sel.value = ui.node;
}

async function loadNodes() {
  const sel = $("node");
  const names = [ui.localNode];
  try { for (const n of (await api("GET", "/v1/nodes")).data.nodes || []) if (n.node && !names.includes(n.node)) names.push(n.node); } catch (e) { /* this node only */ }
  sel.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
  setNode(sessionStorage.getItem(NODE_KEY) || ui.localNode);
}

function route() {
  stopPoll();
  ui.view++;
  const hash = location.hash || "#/captures";
  const [, page, arg] = /^#\/([^/]*)\/?(.*)$/.exec(hash) || [null, "captures", ""];
  for (const [id, p] of [["nav-captures", ["captures", "add", "capture"]], ["nav-rules", ["rules"]], ["nav-nodes", ["nodes"]]])
    $(id).classList.toggle("current", p.includes(page));
  switch (page) {
  case "add": return viewAdd();
  case "capture": return viewCapture(decodeURIComponent(arg));
  case "rules": return viewRules();
  case "nodes": return viewNodes();
  default: return viewCaptures();
  }
}

async function start() {
  setupDialogs();
  try {
    const r = await fetch("/healthz", { cache: "no-store" });
    ui.localNode = (await r.json()).node || "";
  } catch (e) { ui.localNode = ""; }
  ui.node = ui.localNode;
  $("node").addEventListener("change", () => { setNode($("node").value); route(); });
  window.addEventListener("hashchange", route);
  await loadNodes();
  route();
}

document.addEventListener("DOMContentLoaded", start);

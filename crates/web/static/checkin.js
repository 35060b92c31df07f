// quantriet — the operator's check-in page keeps working without a connection (R3.4).
// Check-ins go to a queue in localStorage, each with an id made on this device, and are sent to
// POST /api/v1/checkins whenever the server answers; the server stores each id once, so a queue
// sent twice, out of order or from two devices never duplicates a record. Without this script
// the page still works: every button is a plain form submit.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  var roster = document.getElementById("roster-form");
  if (!form || !roster) return;
  var session = Number(form.getAttribute("data-session"));
  var csrf = form.getAttribute("data-csrf");
  var code = document.getElementById("code");
  var statusEl = document.getElementById("sync-status");
  var countEl = document.getElementById("present-count");
  // Each account keeps its own queue: on a shared device, one operator's check-ins are never
  // sent under another's login.
  var account = form.getAttribute("data-account");
  var QUEUE = "qt-checkin-queue:" + account;
  var REFUSED = "qt-checkin-refused:" + account;

  function hex(n) {
    var a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  var device = localStorage.getItem("qt-device");
  if (!device) { device = "d" + hex(6); localStorage.setItem("qt-device", device); }

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(QUEUE, JSON.stringify(q)); }
  function loadRefused() {
    try { return JSON.parse(localStorage.getItem(REFUSED) || "[]"); } catch (e) { return []; }
  }

  // Same folding as the server: no diacritics, đ → d, lower case, single spaces.
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }
  function rows() { return roster.querySelectorAll("tr[data-pid]"); }
  function rowOf(pid) { return roster.querySelector('tr[data-pid="' + pid + '"]'); }

  function show(text, offline) {
    statusEl.hidden = !text;
    statusEl.textContent = text || "";
    statusEl.className = "sync" + (offline ? " offline" : "");
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function refreshCount() {
    // A part of the list cannot count the whole; the server's figure stays until the whole
    // roster is here (a queued check-in adds one).
    if (roster.getAttribute("data-whole") !== "1") {
      if (countEl && arguments.length) countEl.textContent = String(Number(countEl.textContent) + 1);
      return;
    }
    var n = 0;
    rows().forEach(function (r) { if (r.classList.contains("is-in")) n++; });
    if (countEl) countEl.textContent = String(n);
  }

  function enqueue(pid, direction) {
    var row = rowOf(pid);
    var now = new Date();
    var q = load();
    q.push({ id: device + "-" + hex(8), session_id: session, participant_id: pid,
             direction: direction, at: now.toISOString() });
    save(q);
    if (row) {
      var name = row.querySelector(".who-cell").textContent;
      var state = row.querySelector(".state");
      state.textContent = (direction === "in" ? "Vào " : "Ra ") + hhmm(now);
      row.classList.add("queued");
      var wasIn = row.classList.contains("is-in");
      if (direction === "in") row.classList.add("is-in");
      show("Đã ghi " + (direction === "in" ? "vào" : "ra") + ": " + name + " lúc " + hhmm(now) + ".", false);
      if (direction === "in" && !wasIn && roster.getAttribute("data-whole") !== "1") refreshCount(1);
    }
    refreshCount();
    flush();
  }

  var sending = false;
  function flush() {
    var q = load();
    if (sending || q.length === 0) return;
    sending = true;
    var batch = q.slice(0, 500);
    fetch("/api/v1/checkins", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ device_id: device, checkins: batch })
    }).then(function (resp) {
      if (resp.status === 401 || resp.status === 403) {
        // The session has ended: the kept copies of the roster go (issue 10.9); the queue stays
        // for the next login on this device, which sends it under its own account.
        if (window.caches) {
          caches.keys().then(function (keys) {
            keys.filter(function (k) { return k.indexOf("qt-checkin-") === 0; }).forEach(function (k) { caches.delete(k); });
          });
        }
        show("Phiên đăng nhập đã hết: đăng nhập lại để gửi " + load().length + " lượt đang chờ.", true);
        return null;
      }
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.json();
    }).then(function (report) {
      if (!report) return;
      var answered = {};
      var problems = [];
      var refused = loadRefused();
      report.results.forEach(function (r) {
        answered[r.id] = true;
        if (r.outcome === "rejected") {
          problems.push(r.message);
          // Kept, with the reason, for the operator to see: never silently dropped.
          var item = batch.filter(function (c) { return c.id === r.id; })[0];
          if (item) { item.reason = r.message; refused.push(item); }
        }
      });
      localStorage.setItem(REFUSED, JSON.stringify(refused));
      var rest = load().filter(function (c) { return !answered[c.id]; });
      save(rest);
      batch.forEach(function (c) {
        var row = rowOf(c.participant_id);
        if (row && !rest.some(function (x) { return x.participant_id === c.participant_id; })) row.classList.remove("queued");
      });
      if (problems.length) show("Máy chủ không nhận " + refused.length + " lượt (đã giữ lại trên máy này): " + problems[0], true);
      else if (rest.length) show("Còn " + rest.length + " lượt chờ gửi…", false);
      else show("Đã gửi hết lên máy chủ.", false);
      if (rest.length) setTimeout(flush, 0);
    }).catch(function () {
      show("Mất kết nối: " + load().length + " lượt đang chờ, sẽ tự gửi khi có mạng lại.", true);
    }).then(function () { sending = false; });
  }

  // The code box: a scanned card number checks in at once; a name filters the list here.
  form.addEventListener("submit", function (e) {
    var text = code.value.trim();
    var direction = form.querySelector("select[name=direction]").value;
    if (!text) { e.preventDefault(); return; }
    if (/^\d+$/.test(text)) {
      var row = roster.querySelector('tr[data-card="' + text + '"]');
      e.preventDefault();
      if (row) { enqueue(Number(row.getAttribute("data-pid")), direction); code.value = ""; filter(""); }
      else show("Không có số thẻ " + text + " trong danh sách buổi học này.", true);
      return;
    }
    e.preventDefault();
    filter(text);
  });
  function filter(text) {
    // Every word typed, in any order.
    var words = fold(text).split(/\s+/).filter(function (w) { return w !== ""; });
    rows().forEach(function (r) {
      var s = r.getAttribute("data-search");
      r.hidden = !words.every(function (w) { return s.indexOf(w) >= 0; });
    });
  }
  code.addEventListener("input", function () {
    if (!/^\d+$/.test(code.value.trim())) filter(code.value);
  });
  // Row buttons.
  roster.addEventListener("submit", function (e) {
    var b = e.submitter;
    if (!b || b.name !== "mark") return;
    e.preventDefault();
    var parts = b.value.split(":");
    enqueue(Number(parts[1]), parts[0]);
    code.focus();
  });

  // The whole roster, once, as compact data (issue 11.12): the page's HTML holds one part of a
  // long list; here every participant becomes a row, so the search box, the scanner and the
  // offline queue reach all of them.
  var finished = form.getAttribute("data-finished") === "1";
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== null) td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function button(td, dir, pid, name) {
    var b = document.createElement("button");
    b.type = "submit"; b.name = "mark"; b.value = dir + ":" + pid;
    b.textContent = dir === "in" ? "Vào" : "Ra";
    b.setAttribute("aria-label", (dir === "in" ? "Vào: " : "Ra: ") + name);
    td.appendChild(b);
  }
  function drawRoster(data) {
    var body = roster.querySelector("tbody");
    if (!body || !data || !data.rows) return;
    var waiting = {};
    load().forEach(function (c) { waiting[c.participant_id] = c; });
    var frag = document.createDocumentFragment();
    data.rows.forEach(function (r) {
      var pid = r[0], name = r[1], card = r[2], org = data.names[r[3]] || "", bridge = r[4] >= 0 ? data.names[r[4]] : "";
      var tr = document.createElement("tr");
      tr.setAttribute("data-pid", pid);
      tr.setAttribute("data-search", fold(name) + " " + card);
      tr.setAttribute("data-card", card);
      if (r[6]) tr.className = "is-in";
      var who = cell(tr, name, "who-cell");
      var extra = document.createElement("span");
      extra.className = "who-extra";
      extra.textContent = (card ? "Thẻ " + card + " · " : "") + org;
      who.appendChild(extra);
      cell(tr, card, null);
      var o = cell(tr, org, "org-cell");
      if (bridge) { o.appendChild(document.createElement("br")); var m = document.createElement("span"); m.className = "muted"; m.textContent = bridge; o.appendChild(m); }
      cell(tr, r[5], "state");
      var act = cell(tr, null, "row-actions");
      if (!finished) { button(act, "in", pid, name); button(act, "out", pid, name); }
      var q = waiting[pid];
      if (q) {
        tr.classList.add("queued");
        if (q.direction === "in") tr.classList.add("is-in");
        tr.querySelector(".state").textContent = (q.direction === "in" ? "Vào " : "Ra ") + hhmm(new Date(q.at));
      }
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    ["roster-pager", "roster-found", "roster-empty"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.hidden = true;
    });
    roster.setAttribute("data-whole", "1");
    refreshCount();
    if (code.value) filter(code.value);
  }
  fetch("/sessions/" + session + "/roster.json", { credentials: "same-origin" })
    .then(function (resp) { return resp.ok ? resp.json() : null; })
    .then(drawRoster)
    .catch(function () { /* the part drawn by the server stays */ });

  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    show("Mất kết nối: vẫn điểm danh bình thường, các lượt sẽ được gửi khi có mạng lại.", true);
  });
  setInterval(flush, 10000);
  var waiting = load().length;
  var kept = loadRefused().length;
  if (kept) show(kept + " lượt máy chủ không nhận vẫn được giữ trên máy này (xem lý do ở lần gửi trước).", true);
  else if (waiting) show(waiting + " lượt chờ gửi…", false);
  flush();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});
})();

// quantriet — service worker for the offline check-in page (R3.4). It keeps the operator page
// and the static files, so that the page opens again without a connection; check-ins themselves
// wait in the page's queue (checkin.js), never here.
"use strict";
// The server writes its build's version here: a new release makes a new worker and cache.
var CACHE = "qt-checkin-__VERSION__";
var STATIC = ["/static/app.css", "/static/app.js", "/static/checkin.js"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(STATIC); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (e) {
  var req = e.request;
  var url = new URL(req.url);
  // Logging out forgets the kept pages (rosters), so that the next person on this device
  // cannot open them offline.
  if (req.method === "POST" && url.pathname === "/logout") {
    e.respondWith(caches.delete(CACHE).then(function () { return fetch(req); }));
    return;
  }
  if (req.method !== "GET") return;
  if (url.origin !== self.location.origin) return;
  // The login page opens only when there is no session (ended by expiry, idle time, a logout
  // elsewhere, or never begun): the kept rosters go too (issue 10.9).
  if (url.pathname === "/login") {
    e.respondWith(caches.delete(CACHE).then(function () { return fetch(req); }));
    return;
  }
  if (STATIC.indexOf(url.pathname) >= 0) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  // The operator page and its roster data: the network first, the last copy when there is none.
  if (/^\/sessions\/\d+\/(checkin|roster\.json)$/.test(url.pathname)) {
    e.respondWith(fetch(req).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
      } else if (resp.type === "opaqueredirect" || resp.status === 401 || resp.status === 403 || resp.status === 404) {
        // No session (sent to the login), or no longer allowed: forget the kept copy.
        return caches.delete(CACHE).then(function () { return resp; });
      }
      return resp;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || new Response("Không có mạng và chưa có bản lưu của trang này.", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
  }
});

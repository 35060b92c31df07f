// quantriet — small enhancements only; every page works without this file.
(function () {
  "use strict";
  // Confirmation for destructive actions: <form data-confirm="…">.
  // Without this script the server asks on a page of its own (the form's hidden `_confirm`);
  // confirmed here, the form says so and goes straight through.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (!msg) return;
    if (!window.confirm(msg)) { e.preventDefault(); return; }
    if (!form.querySelector("input[name=_confirmed]")) {
      var ok = document.createElement("input");
      ok.type = "hidden"; ok.name = "_confirmed"; ok.value = "1";
      form.appendChild(ok);
    }
  });
  // Attendance sheet: "Đánh dấu tất cả có mặt" sets every unmarked row to present.
  var all = document.getElementById("mark-all-present");
  if (all) {
    all.hidden = false;
    all.addEventListener("click", function () {
      document.querySelectorAll("select[data-status]").forEach(function (s) {
        if (!s.value) s.value = "present";
      });
    });
  }
  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
})();

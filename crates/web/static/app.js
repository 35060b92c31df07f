// quantriet — small enhancements only; every page works without this file.
(function () {
  "use strict";
  // Confirmation for destructive actions: <form data-confirm="…">.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
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

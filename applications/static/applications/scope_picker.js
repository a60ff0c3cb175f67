// The business-scope picker of the application form (issue #14): a checkbox list that works
// without JavaScript; with it, a search box above the list hides the categories that do not
// match what is typed (code or name). Strict CSP: no inline script, this file only.
(function () {
  "use strict";
  function setUp(picker) {
    var input = picker.querySelector("input[type=search]");
    var status = picker.querySelector("[data-scope-count]");
    if (!input) return;
    var rows = Array.prototype.slice.call(picker.querySelectorAll("[data-scope-option]"));
    input.hidden = false;
    input.parentNode.hidden = false;
    function filter() {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var checked = row.querySelector("input:checked");
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !(match || checked);
        if (!row.hidden) shown += 1;
      });
      if (status) status.textContent = status.dataset.template.replace(/%?%s/, String(shown)); // the template tag doubles the %
    }
    input.addEventListener("input", filter);
    filter();
  }
  function start() {
    document.querySelectorAll("[data-scope-picker]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// The workspace lists' bulk actions (issue #14): the header box ticks or clears every row of
// the page. A static file because the CSP refuses inline scripts.
(function () {
  "use strict";
  function boxes() {
    return document.querySelectorAll("input.bulk-select");
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList.contains("bulk-select-all")) {
      boxes().forEach(function (box) {
        box.checked = target.checked;
      });
    } else if (target.classList.contains("bulk-select")) {
      var all = document.querySelector("input.bulk-select-all");
      if (all) {
        var list = Array.prototype.slice.call(boxes());
        all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
      }
    }
  });
})();

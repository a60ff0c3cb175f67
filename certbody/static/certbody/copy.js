// Copy buttons (CSP: no inline script): <button data-copy="ID" data-copied="Copied"> copies the
// text of the field ID to the clipboard; without clipboard access the text is selected instead.
(function () {
  if (window.certbodyCopy) return;
  window.certbodyCopy = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || button.textContent;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
})();

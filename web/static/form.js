// Progressive extras for the registration form; it works without them (except tz).
(function () {
  "use strict";
  var form = document.querySelector("form[method=post]");
  if (!form) return;
  var tz = form.querySelector("input[name=tz]");
  if (tz && !tz.value) {
    try {
      tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) { /* an old browser: the server falls back to its own zone */ }
  }
  // One click, one submission: a double tap must not post the form twice.
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });
  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
})();

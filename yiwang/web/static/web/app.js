// Shared behaviour of every page. No inline handlers: pages mark elements with classes.
(function () {
  "use strict";
  function csrfToken() {
    return document.body.dataset.csrfToken || "";
  }
  window.yiwang = { csrfToken: csrfToken };

  // A <select class="js-autosubmit"> submits its form when changed (the language switch).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("js-autosubmit") && el.form) {
      el.form.submit();
    }
    // "Select all" checkbox of a table: <input class="js-select-all" data-target="name">.
    if (el.classList && el.classList.contains("js-select-all")) {
      var boxes = document.querySelectorAll('input[type=checkbox][name="' + el.dataset.target + '"]');
      boxes.forEach(function (box) { box.checked = el.checked; });
    }
  });

  // HTMX requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // A submit button disables itself once pressed, so a double click does not post twice
  // (the server is safe anyway: intake carries an idempotency key, actions an expected version).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    if (form.method && form.method.toLowerCase() === "post" && !form.classList.contains("js-multi")) {
      form.dataset.submitted = "1";
    }
  });
})();

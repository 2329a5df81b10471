// Progressive enhancement for every page: the one-click triage controls answer at once
// (optimistic), before the server's answer replaces them.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.closest || !form.closest(".triage-controls")) return;
    var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent
      ? event.detail.requestConfig.triggeringEvent.submitter : null;
    var star = form.querySelector(".star-toggle");
    if (star) {
      var on = !star.classList.contains("is-on");
      star.classList.toggle("is-on", on);
      star.setAttribute("aria-pressed", on ? "true" : "false");
    } else if (submitter && submitter.classList.contains("state-toggle")) {
      var pressed = !submitter.classList.contains("is-on");
      form.querySelectorAll(".state-toggle").forEach(function (button) {
        button.classList.remove("is-on");
        button.setAttribute("aria-pressed", "false");
      });
      submitter.classList.toggle("is-on", pressed);
      submitter.setAttribute("aria-pressed", pressed ? "true" : "false");
    }
  });
  // A paper's triage controls were saved: tell whoever shows that paper's lab view ("triage-<pk>-saved"
  // on body). The Content-Security-Policy allows no eval, so htmx cannot filter events itself.
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (!event.detail.successful || !target || !/^triage-\d+$/.test(target.id)) return;
    document.body.dispatchEvent(new CustomEvent(target.id + "-saved"));
  });
  // The list's URL holds its whole state: keep it short by leaving out the filters not in use.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "paper-filters") return;
    var data = event.detail.formData;
    Array.from(new Set(data.keys())).forEach(function (key) {
      if (data.getAll(key).every(function (value) { return value === ""; })) data.delete(key);
    });
  });
  // Whatever fails (a server error, the network), say so: nothing may fail silently.
  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) {
      box = document.createElement("div");
      box.id = "toast";
      box.className = "toast";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(box.hideTimer);
    box.hideTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  // Forms that undo something ask first; buttons that copy a link copy it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    (navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject()).then(
      function () { button.textContent = "Copied"; },
      function () { document.execCommand("copy"); button.textContent = "Copied"; }
    );
  });
  document.addEventListener("htmx:responseError", function (event) {
    toast("Not saved: the server answered " + event.detail.xhr.status + ". Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Not saved: no connection to the server. Check your network and try again.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var controls = event.detail.elt.closest && event.detail.elt.closest(".triage-controls");
    if (controls) {
      controls.classList.add("is-error");
      controls.setAttribute("title", "Not saved: the server answered " + event.detail.xhr.status + ". Reload and try again.");
    }
  });
})();
// A 503 is the database being briefly away (papers/middleware.py sends it with HX-Reswap: none, so the
// page stays as it was): say that plainly instead of a bare status code, after the toast above.
(function () {
  "use strict";
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status !== 503) return;
    var box = document.getElementById("toast");
    if (!box) return;
    var sent = event.detail.requestConfig && event.detail.requestConfig.verb !== "get";
    box.textContent = sent
      ? "Not saved: the database is briefly unavailable. Try again in a moment."
      : "The database is briefly unavailable. Try again in a moment.";
  });
})();

/*
 * The triage inbox's keys. A key clicks the button or link on the page that carries it in data-key
 * (or focuses the field that does), so a key, a click, a tap and a form posted without JavaScript all
 * go the same way. Keys are ignored while typing and with Ctrl, Meta or Alt held; Shift and Caps Lock
 * do not matter ("L" is "l").
 *
 * The card's htmx swaps use settle:0ms: htmx wires up swapped-in forms when it settles, and a key
 * pressed in between would post the form natively.
 */
(function () {
  "use strict";

  var BUSY_HINT = "Still loading: that key did nothing. Press it again when the paper shows.";
  var busyTimer = null;

  function inbox() {
    return document.querySelector("[data-inbox]");
  }

  function help() {
    return document.getElementById("inbox-help");
  }

  function isTyping(element) {
    if (!element || !element.tagName) return false;
    if (element.isContentEditable) return true;
    return element.tagName === "INPUT" || element.tagName === "TEXTAREA" || element.tagName === "SELECT";
  }

  function isField(element) {
    return element.tagName === "INPUT" || element.tagName === "TEXTAREA";
  }

  // A letter in either case is the same key; anything else ("?", "ArrowLeft", "Escape") is as it is.
  function keyOf(event) {
    return event.key.length === 1 ? event.key.toLowerCase() : event.key;
  }

  function target(root, key) {
    var candidates = root.querySelectorAll("[data-key]");
    for (var i = 0; i < candidates.length; i++) {
      var element = candidates[i];
      if (element.getAttribute("data-key").split(" ").indexOf(key) === -1) continue;
      if (element.disabled || element.closest("[hidden]")) continue;
      return element;
    }
    return null;
  }

  function closeHelp() {
    var details = help();
    if (details && details.open) {
      details.open = false;
      return true;
    }
    return false;
  }

  // A key pressed while the card loads is not kept for the next paper, which the reader has not seen
  // yet: it is dropped, and the reader is told so.
  function sayBusy(root) {
    var hint = root.querySelector("[data-inbox-busy]");
    if (!hint) return;
    hint.textContent = BUSY_HINT;
    clearTimeout(busyTimer);
    busyTimer = setTimeout(function () { hint.textContent = ""; }, 3000);
  }

  function clearBusy() {
    var hint = document.querySelector("[data-inbox-busy]");
    if (hint && hint.textContent) hint.textContent = "";
    clearTimeout(busyTimer);
  }

  document.addEventListener("keydown", function (event) {
    var root = inbox();
    if (!root || event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape" && root.contains(event.target)) event.target.blur();
      return;
    }
    if (event.key === "Escape") {
      if (closeHelp()) event.preventDefault();
      return;
    }
    // Holding a key down must not triage papers unseen.
    if (event.repeat) return;
    var element = target(root, keyOf(event));
    if (!element) return;
    event.preventDefault();
    var card = document.getElementById("inbox-card");
    if (card && card.contains(element) && root.querySelector(".htmx-request")) {
      sayBusy(root);
      return;
    }
    clearBusy();
    if (isField(element)) {
      element.focus();
      return;
    }
    element.click();
  });

  document.addEventListener("click", function (event) {
    var details = help();
    if (!details || !details.open) return;
    if (event.target.closest("[data-inbox-close]") || !details.contains(event.target)) details.open = false;
  });

  // After htmx swaps in the next paper the clicked button is gone: put focus on the new title, so
  // that a screen reader reads it and Tab starts from the card.
  document.addEventListener("htmx:afterSettle", function () {
    var active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    var title = document.getElementById("inbox-title");
    if (title) title.focus({ preventScroll: true });
  });

  // The one-liner box posts to the notes' own views (note_add, note_edit), which answer with a part of
  // the paper page: none of it belongs here. Once saved, the card is loaded again, so that the box shows
  // the note as it now is (its version, who sees it), and the keys work again (htmx would keep the focus
  // in the box); when refused, the draft stays with the reason.
  function refusal(xhr) {
    if (xhr.status >= 400) return "Not saved: the server answered " + xhr.status + ". Reload and try again.";
    var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var error = answer.querySelector("[role=alert], .errorlist");
    return error ? error.textContent.trim() : "";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("[data-inbox-summary]")) return;
    event.detail.shouldSwap = false;
    var problem = refusal(event.detail.xhr);
    if (problem) {
      form.querySelector("[data-inbox-summary-status]").textContent = problem;
      return;
    }
    var swap = { target: "#inbox-card", swap: "outerHTML settle:0ms" };
    window.htmx.ajax("GET", form.getAttribute("data-card-url"), swap).then(function () {
      var status = document.querySelector("[data-inbox-summary-status]");
      if (status) status.textContent = "Saved.";
      var title = document.getElementById("inbox-title");
      if (title) title.focus({ preventScroll: true });
    });
  });

  function init() {
    var buttons = document.querySelectorAll("[data-inbox-close]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

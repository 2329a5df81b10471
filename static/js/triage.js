/*
 * The triage inbox's keys. A key clicks the button or link on the page that carries it in data-key
 * (or focuses the field that does), so a key, a click, a tap and a form posted without JavaScript all
 * go the same way. Keys are ignored while typing and with Ctrl, Meta or Alt held.
 *
 * The card's htmx swaps use settle:0ms: htmx wires up swapped-in forms when it settles, and a key
 * pressed in between would post the form natively.
 */
(function () {
  "use strict";

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
    // Holding a key down, or pressing on while the next paper loads, must not triage papers unseen.
    if (event.repeat || root.querySelector(".htmx-request")) return;
    var element = target(root, event.key);
    if (!element) return;
    event.preventDefault();
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

  function init() {
    var buttons = document.querySelectorAll("[data-inbox-close]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

// Small enhancements; every page works without this file.
// The theme toggle (light/dark, remembered), the "Copy BibTeX" button, and what the member
// scripts (upvote.js, collections.js, loaded after this file) share.
(function () {
  "use strict";
  var root = document.documentElement;

  function currentTheme() {
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function labelToggle(button) {
    var next = currentTheme() === "dark" ? "light" : "dark";
    button.setAttribute("aria-label", "Switch to " + next + " theme");
    button.title = "Switch to " + next + " theme";
  }

  function setUpThemeToggle() {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.hidden = false;
    labelToggle(button);
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) { /* private mode: not kept */ }
      labelToggle(button);
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on another host has no clipboard API: the old way still works there.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copy);
      var status = button.parentNode.querySelector(".copy-status");
      if (!source) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(source.textContent).then(
          function () { if (status) status.textContent = "Copied."; },
          function () { if (status) status.textContent = "Select the text and copy it."; }
        );
      });
    });
  }

  // The member form's fields with the button's own, as the browser would post them.
  function memberFields(form, button) {
    var body = new URLSearchParams(new FormData(form));
    body.append(button.name, button.value);
    return body;
  }

  // Without fetch's answer: the plain POST, for the server to say what went wrong.
  function submitPlainly(form, button) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = button.name;
    field.value = button.value;
    form.appendChild(field);
    form.action = button.formAction;
    form.submit();
  }

  // What upvote.js and collections.js share: a member's button submits the page's member
  // form (form#m, web/cards.py) with its own name and value; send posts that in place with
  // the given extra headers and hands the JSON answer to done, else posts it plainly.
  window.memberForm = {
    send: function (form, button, headers, done) {
      if (button.disabled) return; // a double click sends once
      button.disabled = true;
      fetch(button.formAction, {
        method: "POST",
        body: memberFields(form, button),
        headers: Object.assign({ Accept: "application/json" }, headers),
        credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) throw new Error("refused: " + response.status);
          return response.json();
        })
        .then(done)
        .catch(function () { submitPlainly(form, button); })
        .finally(function () { button.disabled = false; });
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    setUpThemeToggle();
    setUpCopyButtons();
  });
})();

// Saving and "not interested" in place: a card's save form (form[data-save]) and hide form
// (form[data-hide], see web/cards.py), and the paper page's "Not interested" toggle
// (form[data-hide-toggle], web/collections.py) are sent with fetch and the page updated from
// the JSON answer. Without this file each is a plain POST that comes back to the same place
// (303).
(function () {
  "use strict";

  function showSaved(form, saved) {
    var button = form.querySelector("button");
    form.classList.toggle("saved", saved);
    form.querySelector("input[name=saved]").value = saved ? "0" : "1";
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.title = saved ? "Take it out of your collections" : "Save to Read later";
    button.textContent = saved ? "Saved" : "Save";
  }

  // Keep in step with web/collections.py paper_not_interested (and personal.py _HIDE_FLIPS).
  function showHidden(form, hidden) {
    var button = form.querySelector("button");
    form.classList.toggle("marked", hidden);
    form.querySelector("input[name=hidden]").value = hidden ? "0" : "1";
    button.setAttribute("aria-pressed", hidden ? "true" : "false");
    button.title = hidden
      ? "Show this paper in your lists again"
      : "Hide this paper from your daily, trending and search pages";
    button.textContent = hidden ? "Undo \u201cNot interested\u201d" : "Not interested";
  }

  function hideCard(form) {
    var item = form.closest("li") || form.closest("article");
    if (item) item.remove();
  }

  function send(form, done) {
    var button = form.querySelector("button");
    if (button.disabled) return; // a double click sends once
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: {
        Accept: "application/json",
        "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value
      },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) throw new Error("refused: " + response.status);
        return response.json();
      })
      .then(done)
      .catch(function () { form.submit(); }) // let the server say what went wrong
      .finally(function () { button.disabled = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.hasAttribute("data-save")) {
      event.preventDefault();
      send(form, function (state) { showSaved(form, state.saved); });
    } else if (form.hasAttribute("data-hide-toggle")) {
      event.preventDefault();
      send(form, function (state) { showHidden(form, state.hidden); });
    } else if (form.hasAttribute("data-hide")) {
      event.preventDefault();
      send(form, function () { hideCard(form); });
    }
  });
})();

// Saving and "not interested" in place: a card's save button (button.save) and hide button
// (button.hide, see web/cards.py), and the paper page's "Not interested" toggle
// (button.hide-toggle, web/collections.py) submit the page's member form (form#m: the CSRF
// token and the way back) with their own state wanted; this sends that with fetch and
// updates the page from the JSON answer. Without this file each is a plain POST that comes
// back to the same place (303).
(function () {
  "use strict";

  function showSaved(button, saved) {
    button.classList.toggle("saved", saved);
    button.value = saved ? "0" : "1";
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.title = saved ? "Take it out of your collections" : "Save to Read later";
    button.textContent = saved ? "Saved" : "Save";
  }

  // Keep in step with web/collections.py paper_not_interested (and personal.py _HIDE_FLIPS).
  function showHidden(button, hidden) {
    button.classList.toggle("marked", hidden);
    button.value = hidden ? "0" : "1";
    button.setAttribute("aria-pressed", hidden ? "true" : "false");
    button.title = hidden
      ? "Show this paper in your lists again"
      : "Hide this paper from your daily, trending and search pages";
    button.textContent = hidden ? "Undo \u201cNot interested\u201d" : "Not interested";
  }

  function hideCard(button) {
    var item = button.closest("li") || button.closest("article");
    if (item) item.remove();
  }

  var kinds = {
    save: function (button, state) { showSaved(button, state.saved); },
    "hide-toggle": function (button, state) { showHidden(button, state.hidden); },
    hide: function (button) { hideCard(button); }
  };

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!(button instanceof HTMLButtonElement)) return;
    var kind = Object.keys(kinds).find(function (name) { return button.classList.contains(name); });
    if (!kind) return;
    event.preventDefault();
    var form = event.target;
    var token = { "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value };
    window.memberForm.send(form, button, token, function (state) { kinds[kind](button, state); });
  });
})();

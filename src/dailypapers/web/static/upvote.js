// Upvotes in place: a card's vote button (button.votes, see web/cards.py) submits the page's
// member form (form#m: the CSRF token and the way back) with its own state wanted
// (upvoted=1 or 0); this sends that with fetch and updates the button from the JSON answer
// instead of reloading the page. Without this file it is a plain POST that comes back to
// the same card (303).
(function () {
  "use strict";

  function plural(count) {
    return count.toLocaleString("en") + (count === 1 ? " upvote" : " upvotes");
  }

  function show(button, state) {
    var action = state.upvoted ? "Take back your upvote" : "Upvote";
    button.classList.toggle("upvoted", state.upvoted);
    button.value = state.upvoted ? "0" : "1";
    button.querySelector(".count").textContent = String(state.upvotes);
    button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
    button.title = action + " (" + plural(state.upvotes) + ")";
    var hidden = button.querySelector(".visually-hidden");
    if (hidden) hidden.textContent = " upvotes. " + action;
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!(button instanceof HTMLButtonElement) || !button.classList.contains("votes")) return;
    event.preventDefault();
    window.memberForm.send(event.target, button, {}, function (state) { show(button, state); });
  });
})();

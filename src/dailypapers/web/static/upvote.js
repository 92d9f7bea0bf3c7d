// Upvotes in place: a vote form (form[data-upvote], see web/cards.py) is sent with fetch
// and the box updated from the JSON answer, instead of reloading the page. Without this
// file the form is a plain POST that comes back to the same card (303).
(function () {
  "use strict";

  function plural(count) {
    return count.toLocaleString("en") + (count === 1 ? " upvote" : " upvotes");
  }

  function show(form, state) {
    var button = form.querySelector("button");
    var action = state.upvoted ? "Take back your upvote" : "Upvote";
    form.classList.toggle("upvoted", state.upvoted);
    form.querySelector("input[name=upvoted]").value = state.upvoted ? "0" : "1";
    form.querySelector(".count").textContent = String(state.upvotes);
    button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
    button.title = action + " (" + plural(state.upvotes) + ")";
    var hidden = button.querySelector(".visually-hidden");
    if (hidden) hidden.textContent = " upvotes. " + action;
  }

  function send(form) {
    var button = form.querySelector("button");
    if (button.disabled) return; // a double click sends once
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) throw new Error("vote refused: " + response.status);
        return response.json();
      })
      .then(function (state) { show(form, state); })
      .catch(function () { form.submit(); }) // let the server say what went wrong
      .finally(function () { button.disabled = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upvote")) return;
    event.preventDefault();
    send(form);
  });
})();

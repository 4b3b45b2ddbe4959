// A conversation's page follows it without a reload: every 4 s it asks for the messages it does
// not show yet (drawn by the server, as the page draws them) and for how the person can be
// reached now (the web chat open or closed). Served as a file: the console's CSP allows no
// inline script.
(function () {
  var list = document.getElementById("transcript");
  var live = document.getElementById("transcript-live");
  if (!list || !list.dataset.poll) return;
  var shown = Number(list.dataset.shown || 0);
  var reachShown = "";
  var timer = null;
  var busy = false;
  function poll() {
    if (busy) return;
    busy = true;
    fetch(list.dataset.poll + "?shown=" + shown,
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (reply) {
        if (reply.redirected) {  // to the log-in page: the session has ended
          clearInterval(timer);
          if (live) live.textContent = "You have been logged out: reload the page to log in again.";
          return null;
        }
        return reply.ok ? reply.json() : null;
      })
      .then(function (update) {
        if (!update) return;
        update.turns.forEach(function (html) { list.insertAdjacentHTML("beforeend", html); });
        shown = update.shown;
        var reach = document.getElementById("reach");
        if (reach && update.reach !== reachShown) {
          reach.outerHTML = update.reach;
          reachShown = update.reach;
        }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { busy = false; });
  }
  timer = setInterval(poll, 4000);
})();

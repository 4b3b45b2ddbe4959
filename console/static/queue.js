// New escalations stand out without a reload: poll every 10 s, show an alert when one came in.
(function () {
  var queue = document.getElementById("queue");
  var alert = document.getElementById("new-escalation");
  if (!queue || !alert) return;
  var seen = Number(queue.dataset.latest || 0);
  var title = document.title;
  function poll() {
    fetch(queue.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (state) {
        if (state && state.latest > seen) {
          alert.hidden = false;
          document.title = "(" + state.urgent_open + " urgent) " + title;
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(poll, 10000);
})();

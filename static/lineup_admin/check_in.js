// Check-in at the door: search as you type. Without this script the search is a plain GET
// form; with it, the list is fetched again as the volunteer types and swapped in place.
(function () {
  "use strict";
  var form = document.querySelector("[data-check-in-search]");
  if (!form || !window.fetch || !window.DOMParser) return;
  var input = form.querySelector("input[type=search]");
  var timer = null;
  var controller = null;

  function url() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("page");
    return form.action.split("?")[0] + "?" + params.toString();
  }

  // Fetches `address` and swaps in its list, its running count and the words of its search
  // result; rejects when the page could not be read that way.
  function load(address, signal) {
    return fetch(address, { credentials: "same-origin", signal: signal })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("reload");
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var results = fresh.getElementById("check-in-results");
        var count = fresh.getElementById("door-count");
        var found = fresh.getElementById("door-found");
        if (!results || !count) throw new Error("reload");
        document.getElementById("check-in-results").replaceWith(document.adoptNode(results));
        document.getElementById("door-count").innerHTML = count.innerHTML;
        // The live region stays in place; only its words change, so screen readers hear them.
        document.getElementById("door-found").textContent = found ? found.textContent : "";
      });
  }

  function refresh() {
    var address = url();
    if (controller) controller.abort();
    controller = new AbortController();
    load(address, controller.signal)
      .then(function () { window.history.replaceState(null, "", address); })
      .catch(function (error) {
        if (error.name !== "AbortError") form.submit(); // the plain page, whatever went wrong
      });
  }

  // Other volunteers tap too: the list and the counts are fetched again every few seconds,
  // unless paused, the tab is hidden, or the volunteer is typing or on a button of the list
  // (swapping it then would move their focus). A failed refresh waits for the next one.
  var live = document.querySelector("[data-door-live]");
  var pause = live && live.querySelector("[data-door-live-pause]");
  var typedAt = 0;
  if (live && pause) {
    live.hidden = false;
    pause.addEventListener("click", function () {
      var paused = pause.getAttribute("aria-pressed") !== "true";
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      pause.textContent = paused ? "Resume updates" : "Pause updates";
    });
    window.setInterval(function () {
      var results = document.getElementById("check-in-results");
      if (pause.getAttribute("aria-pressed") === "true" || document.hidden) return;
      if (Date.now() - typedAt < 3000 || results.contains(document.activeElement)) return;
      load(window.location.href).catch(function () {});
    }, 1000 * Number(live.dataset.doorLive));
  }

  input.addEventListener("input", function () {
    typedAt = Date.now();
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { form.submit(); });
  });
})();

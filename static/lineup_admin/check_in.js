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

  function refresh() {
    var address = url();
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(address, { credentials: "same-origin", signal: controller.signal })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("reload");
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var results = fresh.getElementById("check-in-results");
        var found = fresh.getElementById("door-found");
        if (!results) throw new Error("reload");
        document.getElementById("check-in-results").replaceWith(document.adoptNode(results));
        // The live region stays in place; only its words change, so screen readers hear them.
        document.getElementById("door-found").textContent = found ? found.textContent : "";
        window.history.replaceState(null, "", address);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") form.submit(); // the plain page, whatever went wrong
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { form.submit(); });
  });
})();

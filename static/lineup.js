/* Lineup: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // A refused form: focus the error summary, so a phone shows it and a screen reader reads it.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.scrollIntoView({ block: "start" }); summary.focus(); }

  // Sign-up forms: one submission per click (the server also de-duplicates by token).
  document.querySelectorAll("form.signup").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      if (form.dataset.powPending === "1") { event.preventDefault(); form.dataset.submitWhenSolved = "1"; return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });

  // A team's sign-up: the times follow the members ticked and typed, so a time too small
  // for the team is never offered (the server marked them for the roster it first showed).
  document.querySelectorAll("fieldset[data-seats]").forEach(function (times) {
    var form = times.form || times.closest("form");
    var typed = form.querySelector("textarea[name=extra_members]");
    var boxes = form.querySelectorAll("input[type=checkbox][name=members]");
    if (!typed && !boxes.length) { return; }
    function seats() {
      var n = 0;
      boxes.forEach(function (box) { if (box.checked) { n++; } });
      if (typed) { typed.value.split("\n").forEach(function (line) { if (line.trim()) { n++; } }); }
      return Math.max(n, 1);
    }
    function update() {
      var need = seats();
      times.querySelectorAll("li.offer").forEach(function (item) {
        if (item.hasAttribute("data-refused")) { return; } // full, a clash or the cap: not ours to lift
        var radio = item.querySelector("input[type=radio]");
        var places = Number(item.dataset.places);
        var why = item.querySelector(".why");
        if (places < need) {
          if (!why) {
            why = document.createElement("span");
            why.className = "why";
            why.id = "why-" + radio.value;
            (item.querySelector(".offer-text") || item).appendChild(why);
          }
          // The wording comes translated from the page (data-too-small-one/-other).
          var wording = (places === 1 ? times.dataset.tooSmallOne : times.dataset.tooSmallOther) ||
            "Cannot be taken: {places} places left; your team needs {need}";
          why.textContent = wording.replace("{places}", places).replace("{need}", need);
          radio.disabled = true;
          radio.checked = false;
          radio.setAttribute("aria-describedby", why.id);
          item.classList.add("offer-unavailable");
        } else {
          if (why) { why.remove(); }
          radio.disabled = false;
          radio.removeAttribute("aria-describedby");
          item.classList.remove("offer-unavailable");
        }
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (typed) { typed.addEventListener("input", update); }
    form.querySelectorAll("[data-update-times]").forEach(function (button) { button.hidden = true; });
    form.querySelectorAll("[data-select-all]").forEach(function (link) {
      link.setAttribute("role", "button");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        boxes.forEach(function (box) { box.checked = true; });
        update();
      });
    });
    update();
  });

  // "Next open time": pick it in the list as well as scrolling to it.
  document.querySelectorAll("a[data-pick]").forEach(function (link) {
    link.addEventListener("click", function () {
      var radio = document.getElementById(link.dataset.pick);
      if (radio && !radio.disabled) { radio.checked = true; radio.focus(); }
    });
  });

  // Proof of work (registrations/proof_of_work.py): find a nonce such that
  // SHA-256("<challenge>:<nonce>") starts with the challenge's number of zero bits.
  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      return bits + Math.clz32(bytes[i]) - 24;
    }
    return bits;
  }
  function wantedBits(challenge) {
    // The signed payload (before the first ':') is base64url JSON with "b": bits.
    try {
      var payload = challenge.split(":")[0].replace(/-/g, "+").replace(/_/g, "/");
      while (payload.length % 4) { payload += "="; }
      return JSON.parse(atob(payload)).b;
    } catch (e) { return null; }
  }
  async function solve(challenge, bits) {
    var encoder = new TextEncoder();
    for (var nonce = 0; ; nonce++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + nonce));
      if (zeroBits(new Uint8Array(digest)) >= bits) { return String(nonce); }
    }
  }
  document.querySelectorAll("input[data-pow-challenge]").forEach(function (input) {
    var form = input.form;
    var nonceInput = form.querySelector("input[data-pow-nonce]");
    var status = form.querySelector("[data-pow-status]");
    var bits = wantedBits(input.value);
    if (!window.crypto || !crypto.subtle || bits === null) { return; } // the no-JS wait applies
    form.dataset.powPending = "1";
    if (status) { status.textContent = status.dataset.powChecking || "Checking this browser (a second or two)…"; }
    solve(input.value, bits).then(function (nonce) {
      nonceInput.value = nonce;
      form.dataset.powPending = "";
      if (status) { status.textContent = status.dataset.powDone || "Browser check done."; }
      if (form.dataset.submitWhenSolved === "1") { form.requestSubmit(); }
    });
  });

  // The schedule: its tables are fetched afresh every minute in place (a whole-page reload
  // would move a screen reader and lose the reader's place), with a pause button.
  var live = document.querySelector("[data-live-refresh]");
  var controls = document.querySelector("[data-live-controls]");
  if (live && controls && window.fetch && window.DOMParser) {
    var pause = controls.querySelector("[data-live-pause]");
    controls.hidden = false;
    pause.addEventListener("click", function () {
      var paused = pause.getAttribute("aria-pressed") !== "true";
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      pause.textContent = paused ? "Resume updates" : "Pause updates";
    });
    window.setInterval(function () {
      if (pause.getAttribute("aria-pressed") === "true" || document.hidden) { return; }
      fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
        if (fresh) { live.innerHTML = fresh.innerHTML; }
      }).catch(function () { /* offline for a moment: the next minute tries again */ });
    }, 1000 * Number(live.dataset.liveRefresh));
  }

  // "Copy link" next to the private link.
  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.querySelector(button.dataset.copy);
      if (!target) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.href || target.textContent).then(function () {
          button.textContent = button.dataset.copied || "Copied";
        });
      });
    });
  }
})();

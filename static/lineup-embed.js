/* Lineup's embeddable schedule: put this on any site to show a tournament's upcoming times
 * with the places left, read from the public API (/api/v1/).
 *
 *   <div data-lineup-tournament="spring-piano"></div>
 *   <script src="https://lineup.example/static/lineup-embed.js" async></script>
 *
 * Optional attributes on the div: data-lineup-room="<room id>" (one room only),
 * data-lineup-open-only (hide full and blocked times), data-lineup-lang="fr" (the language of
 * its words and dates; by default the host page's <html lang>). Words in another language than
 * English come from our catalogues (/embed/words.json?lang=…). The markup uses the host page's fonts
 * and colours and carries lineup-* classes to restyle. No framework, no eval, no inline
 * <style> or HTML strings: it runs under a strict Content-Security-Policy (the host needs our
 * address in script-src and connect-src).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : window.location.origin;
  var MAX_PAGES = 10;
  // English, until (and unless) the words of the box's language arrive.
  var ENGLISH = {
    loading: "Loading times…",
    full: "Full",
    not_available: "Not available",
    places_left: { one: "%(places)s place left", other: "%(places)s places left" },
    no_upcoming: "No upcoming times.",
    times_in: "Times in %(zone)s.",
    see_on_lineup: "See the times on Lineup",
  };
  var wordsByLang = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "omit", headers: { Accept: "application/json" } }).then(
      function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }
    );
  }

  function allSlots(url, pages) {
    return getJSON(url).then(function (page) {
      if (page.next && pages < MAX_PAGES) {
        return allSlots(page.next, pages + 1).then(function (rest) {
          return page.items.concat(rest);
        });
      }
      return page.items;
    });
  }

  function formatters(zone, lang) {
    var day = new Intl.DateTimeFormat(lang, {
      timeZone: zone, weekday: "long", day: "numeric", month: "long",
    });
    var time = new Intl.DateTimeFormat(lang, {
      timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    return {
      day: function (iso) { return day.format(new Date(iso)); },
      time: function (iso) { return time.format(new Date(iso)); },
    };
  }

  function fill(text, name, value) {
    return text.split("%(" + name + ")s").join(String(value));
  }

  function wordsFor(lang) {
    if (!lang || /^en\b/i.test(lang)) return Promise.resolve(ENGLISH);
    if (!wordsByLang[lang]) {
      wordsByLang[lang] = getJSON(origin + "/embed/words.json?lang=" + encodeURIComponent(lang))
        .catch(function () { return ENGLISH; });
    }
    return wordsByLang[lang];
  }

  function pluralForm(lang, count) {
    try {
      return new Intl.PluralRules(lang).select(count) === "one" ? "one" : "other";
    } catch (error) {
      return count === 1 ? "one" : "other";
    }
  }

  function placesText(slot, words, lang) {
    if (slot.state === "full") return words.full;
    if (slot.state === "blocked") return words.not_available;
    var form = words.places_left[pluralForm(lang, slot.places_left)];
    return fill(form, "places", slot.places_left);
  }

  function render(box, tournament, slots, words, lang) {
    var format = formatters(tournament.time_zone, lang);
    box.textContent = "";
    var title = el("p", "lineup-title");
    var link = el("a", null, tournament.name);
    link.href = tournament.url;
    title.appendChild(link);
    box.appendChild(title);
    if (!slots.length) {
      box.appendChild(el("p", "lineup-empty", words.no_upcoming));
      return;
    }
    var list = null;
    var shownDay = null;
    slots.forEach(function (slot) {
      var day = format.day(slot.starts_at);
      if (day !== shownDay) {
        shownDay = day;
        box.appendChild(el("p", "lineup-day", day));
        list = el("ul", "lineup-slots");
        list.style.listStyle = "none";
        list.style.padding = "0";
        list.style.margin = "0 0 0.75em";
        box.appendChild(list);
      }
      var item = el("li", "lineup-slot lineup-" + slot.state);
      item.style.display = "flex";
      item.style.flexWrap = "wrap";
      item.style.gap = "0 1em";
      item.style.padding = "0.2em 0";
      if (slot.state !== "open") item.style.opacity = "0.65";
      item.appendChild(
        el("span", "lineup-time", format.time(slot.starts_at) + "–" + format.time(slot.ends_at))
      );
      item.appendChild(el("span", "lineup-room", slot.room.name));
      var places;
      if (slot.sign_up_url) {
        places = el("a", "lineup-left", placesText(slot, words, lang));
        places.href = slot.sign_up_url;
        places.target = "_blank";
        places.rel = "noopener";
      } else {
        places = el("span", "lineup-left", placesText(slot, words, lang));
      }
      item.appendChild(places);
      list.appendChild(item);
    });
    var zone = el("p", "lineup-zone", fill(words.times_in, "zone", tournament.time_zone));
    zone.style.fontSize = "0.85em";
    box.appendChild(zone);
  }

  function load(box) {
    var slug = box.getAttribute("data-lineup-tournament");
    if (!slug || box.getAttribute("data-lineup-loaded")) return;
    box.setAttribute("data-lineup-loaded", "1");
    box.setAttribute("aria-live", "polite");
    box.textContent = ENGLISH.loading;
    var lang = box.getAttribute("data-lineup-lang") || document.documentElement.lang || undefined;
    var base = origin + "/api/v1/tournaments/" + encodeURIComponent(slug);
    var query = "?upcoming=true&page_size=100";
    var room = box.getAttribute("data-lineup-room");
    if (room) query += "&room=" + encodeURIComponent(room);
    if (box.hasAttribute("data-lineup-open-only")) query += "&state=open";
    var words = wordsFor(lang);
    words.then(function (found) {
      if (box.getAttribute("data-lineup-loaded") === "1") box.textContent = found.loading;
    });
    Promise.all([getJSON(base), allSlots(base + "/slots" + query, 1), words])
      .then(function (answers) {
        box.setAttribute("data-lineup-loaded", "2");
        render(box, answers[0], answers[1], answers[2], lang);
      })
      .catch(function () {
        box.setAttribute("data-lineup-loaded", "2");
        return words.then(function (found) {
          box.textContent = "";
          var link = el("a", null, found.see_on_lineup);
          link.href = origin + "/t/" + encodeURIComponent(slug) + "/";
          box.appendChild(link);
        });
      });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-lineup-tournament]");
    for (var i = 0; i < boxes.length; i++) load(boxes[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

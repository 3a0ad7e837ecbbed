/* The pipeline board: drag a card to another stage (saved at once, version-checked) or
 * onto Won / Lost (a dialog asks what to record, or why it was lost). Every card also has
 * a plain form (its "Move or close" menu) that works without this script.
 * CSP: no inline script or style; listeners are delegated, so a re-rendered board keeps
 * working without re-binding. */
(function () {
  "use strict";

  var dragged = null;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      return meta.content;
    }
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function board() {
    return document.getElementById("pipeline-board");
  }

  function say(text, kind) {
    var box = document.getElementById("board-message");
    if (!box) {
      return;
    }
    box.textContent = text || "";
    box.className = "alert alert-" + (kind || "danger");
    box.hidden = !text;
  }

  function fallbackText() {
    var current = board();
    return (current && current.getAttribute("data-error-text")) || "";
  }

  /* Fetch the board fragment again (same filters) and put it in place. */
  function refresh() {
    return fetch(window.location.pathname + window.location.search, {
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("#pipeline-board");
        var current = board();
        if (fresh && current) {
          current.replaceWith(fresh);
          if (window.htmx) {
            window.htmx.process(fresh);
          }
          document.dispatchEvent(new CustomEvent("kehu:board-refreshed"));
        }
      });
  }

  function zoneOf(target) {
    return target && target.closest ? target.closest("[data-drop-stage], [data-drop-close]") : null;
  }

  function highlight(zone, on) {
    if (zone) {
      zone.classList.toggle("border-primary", on);
      zone.classList.toggle("border-2", on || zone.hasAttribute("data-drop-close"));
      zone.classList.toggle("bg-primary-lt", on);
    }
  }

  function move(card, zone) {
    var stage = zone.getAttribute("data-drop-stage");
    if (stage === card.getAttribute("data-stage")) {
      return;
    }
    var origin = card.parentElement;
    var next = card.nextSibling;
    var list = zone.querySelector("[data-cards]") || zone;
    list.insertBefore(card, list.firstChild); // shown at once; put back if refused
    var body = new FormData();
    body.append("stage", stage);
    body.append("version", card.getAttribute("data-version"));
    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { ok: response.ok, status: response.status, data: data };
          });
      })
      .then(function (result) {
        if (result.ok) {
          say(result.data.message, "success");
        } else {
          origin.insertBefore(card, next); // the card goes back
          say(result.data.message || fallbackText(), "danger");
        }
        return refresh();
      })
      .catch(function () {
        if (card.parentElement !== origin) {
          origin.insertBefore(card, next);
        }
        say(fallbackText(), "danger");
      });
  }

  function openClose(card, status) {
    var dialog = document.getElementById(status + "-dialog");
    if (!dialog || !card.getAttribute("data-close-url")) {
      return false;
    }
    var form = dialog.querySelector("form");
    form.setAttribute("action", card.getAttribute("data-close-url"));
    form.querySelector('[name="version"]').value = card.getAttribute("data-version");
    dialog.querySelector("[data-dialog-title]").textContent = card.getAttribute("data-title");
    dialog.showModal();
    var first = dialog.querySelector('input[type="text"], input[type="radio"]:checked');
    if (first) {
      first.focus();
    }
    return true;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-card][draggable]") : null;
    if (!card) {
      return;
    }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-card"));
    card.classList.add("opacity-50");
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("opacity-50");
    }
    dragged = null;
    document.querySelectorAll("[data-drop-stage], [data-drop-close]").forEach(function (zone) {
      highlight(zone, false);
    });
  });

  document.addEventListener("dragover", function (event) {
    var zone = zoneOf(event.target);
    if (!zone || !dragged) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    highlight(zone, true);
  });

  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event.target);
    if (zone && !zone.contains(event.relatedTarget)) {
      highlight(zone, false);
    }
  });

  document.addEventListener("drop", function (event) {
    var zone = zoneOf(event.target);
    var card = dragged;
    if (!zone || !card) {
      return;
    }
    event.preventDefault();
    highlight(zone, false);
    card.classList.remove("opacity-50");
    dragged = null;
    if (zone.hasAttribute("data-drop-close")) {
      openClose(card, zone.getAttribute("data-drop-close"));
    } else {
      move(card, zone);
    }
  });

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest ? event.target.closest("[data-close-action]") : null;
    if (trigger) {
      var card = trigger.closest("[data-card]");
      if (card && openClose(card, trigger.getAttribute("data-close-action"))) {
        event.preventDefault();
      }
      return;
    }
    var cancel = event.target.closest ? event.target.closest("[data-dialog-cancel]") : null;
    if (cancel) {
      cancel.closest("dialog").close();
    }
  });
})();

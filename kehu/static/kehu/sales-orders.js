/* The order editor: add and remove line rows in the page, fill a line's price and tax rate
 * from the chosen product, and keep Enter in the customer search from saving the order.
 * Without JavaScript the same buttons post the form and the server adds or removes the row.
 * Loaded as a file (the Content-Security-Policy forbids inline scripts). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") {
      fn();
    } else {
      document.addEventListener("DOMContentLoaded", fn);
    }
  }

  function fill(input, value) {
    // Only an empty field, or one this script filled, follows the product.
    if (!input || (input.value !== "" && input.dataset.auto !== "1")) {
      return;
    }
    input.value = value || "";
    input.dataset.auto = value ? "1" : "";
  }

  ready(function () {
    var form = document.getElementById("order-form");
    var body = document.getElementById("line-rows");
    var template = document.getElementById("line-template");
    if (!form || !body || !template) {
      return;
    }

    function addRow() {
      var n = parseInt(body.dataset.nextIndex, 10);
      if (isNaN(n)) {
        n = body.rows.length;
      }
      body.dataset.nextIndex = String(n + 1);
      body.insertAdjacentHTML("beforeend", template.innerHTML.split("__n__").join(String(n)));
      var select = body.lastElementChild && body.lastElementChild.querySelector("select");
      if (select) {
        select.focus();
      }
    }

    form.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) {
        return;
      }
      if (target.closest("[data-add-line]")) {
        event.preventDefault();
        addRow();
        return;
      }
      var remove = target.closest("[data-remove-line]");
      if (remove) {
        event.preventDefault();
        remove.closest("tr").remove();
        if (!body.rows.length) {
          addRow();
        }
      }
    });

    form.addEventListener("change", function (event) {
      var select = event.target;
      if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-line-product")) {
        return;
      }
      var option = select.selectedOptions[0];
      var row = select.closest("tr");
      var data = option ? option.dataset : {};
      fill(row.querySelector("[data-line-price]"), data.price);
      fill(row.querySelector("[data-line-tax]"), data.tax);
      var description = row.querySelector("[data-line-description]");
      if (description) {
        description.placeholder = data.name || "";
      }
    });

    form.addEventListener("input", function (event) {
      if (event.target instanceof HTMLInputElement && event.target.dataset.auto) {
        event.target.dataset.auto = "";
      }
    });

    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target instanceof Element && target.hasAttribute("data-customer-search")) {
        event.preventDefault();
        if (window.htmx) {
          window.htmx.trigger(target, "search");
        }
      }
    });
  });
})();

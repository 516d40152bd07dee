// Behaviour every page shares, in a static file so the Content-Security-Policy (scripts only
// from this site) holds: no inline handlers anywhere.
(function () {
  "use strict";

  // <form data-confirm="…">: a destructive action asks first; dismissing really cancels it.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // <input data-autosubmit>: a filter that applies as soon as it changes (calendar's 含下级组织).
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input || !input.hasAttribute || !input.hasAttribute("data-autosubmit") || !input.form) return;
    if (input.form.requestSubmit) input.form.requestSubmit();
    else input.form.submit();
  });

  // Tables become stacked cards on a phone (CSS .table-stack below 576 px): each cell is
  // labelled with its column header. A table opts out with .table-nostack (grids such as
  // the heat map and the calendar, which scroll in a focusable region instead).
  document.querySelectorAll("main table.table:not(.table-nostack)").forEach(function (table) {
    var headers = [];
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return;
    for (var i = 0, col = 0; i < head.cells.length; i++) {
      var span = head.cells[i].colSpan || 1;
      for (var k = 0; k < span; k++) headers[col++] = head.cells[i].textContent.trim();
    }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        for (var c = 0, col = 0; c < row.cells.length; c++) {
          var cell = row.cells[c];
          if (!cell.hasAttribute("data-label") && headers[col]) cell.setAttribute("data-label", headers[col]);
          col += cell.colSpan || 1;
        }
      });
    });
    // display: block drops a table's semantics in some browsers: keep them as ARIA roles.
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"), function (g) { g.setAttribute("role", "rowgroup"); });
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (cell.tagName === "TD") cell.setAttribute("role", "cell");
        else cell.setAttribute("role", row.parentElement.tagName === "THEAD" ? "columnheader" : "rowheader");
      });
    });
    table.classList.add("table-stack");
  });

  // A region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1): focusable,
  // with a name taken from its table's caption or the nearest heading before it.
  function nameFor(region) {
    var caption = region.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var node = region;
    while (node && node !== document.body) {
      var prev = node.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
        var inner = prev.querySelector && prev.querySelector("h1,h2,h3,h4,h5,h6");
        if (inner) return inner.textContent.trim();
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
    }
    return document.title;
  }
  function markScrollRegions() {
    document.querySelectorAll(".table-responsive, [data-scroll-region]").forEach(function (region) {
      if (region.scrollWidth > region.clientWidth + 1) {
        if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "0");
        if (!region.hasAttribute("role")) region.setAttribute("role", "region");
        if (!region.hasAttribute("aria-label")) region.setAttribute("aria-label", nameFor(region));
      }
    });
  }
  markScrollRegions();
  window.addEventListener("resize", markScrollRegions);
})();

// Phones: a data table stacks into one card per row (app.css, the narrow-window
// block), and each cell then names its column. This copies the headings of a
// table's header row (its <thead>, or a first row of <th> only) into each cell's
// data-label, which the CSS shows before the value; the header row itself is
// marked .stack-head so the CSS can hide it. Tables a page swaps in with htmx are
// labelled too. On a wide window nothing changes: the labels show only there.
(function () {
  "use strict";

  function headerRow(table) {
    if (table.tHead && table.tHead.rows.length) {
      return table.tHead.rows[table.tHead.rows.length - 1];
    }
    var first = table.rows[0];
    if (!first || first.cells.length < 2) return null;
    for (var i = 0; i < first.cells.length; i++) {
      if (first.cells[i].tagName !== "TH") return null;
    }
    return first;
  }

  function isEmpty(cell) {
    return !cell.textContent.trim() && !cell.querySelector("a, button, input, select, textarea, img");
  }

  function labelTable(table) {
    var head = headerRow(table);
    var titles = [];
    if (head) {
      head.classList.add("stack-head");
      for (var i = 0; i < head.cells.length; i++) {
        var title = head.cells[i].textContent.trim();
        for (var span = 0; span < head.cells[i].colSpan; span++) titles.push(title);
      }
    }
    for (var r = 0; r < table.rows.length; r++) {
      var row = table.rows[r];
      if (row === head || row.parentNode === table.tHead) continue;
      var column = 0;
      for (var c = 0; c < row.cells.length; c++) {
        var cell = row.cells[c];
        if (cell.tagName === "TD" && cell.colSpan === 1 && titles[column]) {
          cell.setAttribute("data-label", titles[column]);
        }
        cell.classList.toggle("cell-empty", isEmpty(cell));
        column += cell.colSpan;
      }
    }
  }

  function label(root) {
    if (!root || !root.querySelectorAll) return;
    var tables = Array.prototype.slice.call(root.querySelectorAll("main table"));
    var own = root.closest ? root.closest("main table") : null; // a part of a table swapped in
    if (own) tables.push(own);
    tables.forEach(labelTable);
  }

  document.addEventListener("DOMContentLoaded", function () {
    label(document);
  });
  document.addEventListener("htmx:load", function (event) {
    label(event.target);
  });
})();

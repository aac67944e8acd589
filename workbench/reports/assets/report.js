// llm-eval-workbench report: draws the sections, runs and items of the JSON in #report-data.
// Every text from the data is placed with textContent (never innerHTML): model outputs are shown as text.
// plotly.js is inline, gzip-compressed: unpacked with DecompressionStream, nothing is fetched.
(function () {
  "use strict";

  var PAGE = 50;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var main = document.getElementById("report");
  var pending = []; // [div, figure] drawn once plotly.js is unpacked

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  function shown(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(+value.toPrecision(4));
    return String(value);
  }

  function staticTable(table) {
    var wrap = el("div", "table-wrap");
    if (table.title) add(wrap, el("h3", null, table.title));
    var t = el("table", "scores");
    var head = add(el("thead"), el("tr"));
    table.columns.forEach(function (c) { add(head.firstChild, el("th", null, c)); });
    var body = el("tbody");
    table.rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (c) { add(tr, el("td", typeof c === "number" ? "num" : null, shown(c))); });
      add(body, tr);
    });
    add(wrap, add(t, head, body));
    return wrap;
  }

  function chart(figure) {
    var div = el("div", "chart");
    pending.push([div, figure]);
    return div;
  }

  // A table of many rows: a search box, an optional filter, pages of PAGE rows; a click on a row shows its detail.
  function pagedTable(spec) {
    var box = el("div", "paged");
    var controls = el("div", "controls");
    var search = el("input", "search");
    search.type = "search";
    search.placeholder = "Search " + spec.what;
    search.setAttribute("aria-label", "Search " + spec.what);
    var filter = null;
    if (spec.filterLabel) {
      var label = el("label", "filter");
      filter = el("input");
      filter.type = "checkbox";
      filter.className = "wrong-only";
      filter.disabled = !spec.filterable;
      if (!spec.filterable) label.title = spec.filterNote;
      add(label, filter, document.createTextNode(" " + spec.filterLabel));
    }
    var count = el("span", "count");
    var prev = el("button", "prev", "\u2039 previous");
    var next = el("button", "next", "next \u203a");
    var where = el("span", "page");
    add(controls, search, filter ? filter.parentNode : null, count, prev, where, next);
    var table = el("table", "items");
    var head = add(el("thead"), el("tr"));
    spec.columns.forEach(function (c) { add(head.firstChild, el("th", null, c)); });
    var body = el("tbody");
    add(box, controls, add(table, head, body));

    var haystacks = new Array(spec.rows.length);
    var matching = spec.rows;
    var page = 0;

    function hay(i) {
      if (haystacks[i] === undefined) haystacks[i] = spec.searchText(spec.rows[i]).toLowerCase();
      return haystacks[i];
    }

    function refilter() {
      var q = search.value.trim().toLowerCase();
      var wrongOnly = filter && filter.checked;
      matching = [];
      for (var i = 0; i < spec.rows.length; i++) {
        var row = spec.rows[i];
        if (wrongOnly && !spec.isWrong(row)) continue;
        if (q && hay(i).indexOf(q) < 0) continue;
        matching.push(row);
      }
      page = 0;
      draw();
    }

    function draw() {
      var pages = Math.max(1, Math.ceil(matching.length / PAGE));
      page = Math.min(page, pages - 1);
      body.textContent = "";
      var start = page * PAGE;
      matching.slice(start, start + PAGE).forEach(function (row) {
        var tr = el("tr", "item" + (spec.isWrong(row) ? " wrong" : ""));
        spec.cells(row).forEach(function (c, k) {
          var td = el("td", spec.numeric[k] ? "num" : null);
          add(td, el("div", "cell", shown(c)));
          add(tr, td);
        });
        tr.tabIndex = 0;
        tr.addEventListener("click", function () { toggle(tr, row); });
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") toggle(tr, row); });
        add(body, tr);
      });
      count.textContent = matching.length === spec.rows.length
        ? spec.rows.length + " " + spec.what
        : matching.length + " of " + spec.rows.length + " " + spec.what;
      where.textContent = "page " + (page + 1) + " of " + pages;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }

    function toggle(tr, row) {
      var open = tr.nextSibling && tr.nextSibling.className === "detail" ? tr.nextSibling : null;
      tr.classList.toggle("open", !open);
      if (open) { body.removeChild(open); return; }
      var detail = el("tr", "detail");
      var td = el("td");
      td.colSpan = spec.columns.length;
      add(detail, add(td, spec.detail(row)));
      body.insertBefore(detail, tr.nextSibling);
    }

    var timer = null;
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refilter, 120); });
    if (filter) filter.addEventListener("change", refilter);
    prev.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    draw();
    return box;
  }

  function field(name, value) {
    if (value === null || value === undefined || value === "") return null;
    var div = el("div", "field");
    return add(div, el("div", "name", name), el("pre", "value", value));
  }

  function itemDetail(item) {
    var box = el("div", "item-detail");
    add(box, field("prompt", item.prompt), field("answer", item.output), field("reference", item.reference));
    if (item.choices) add(box, field("options", item.choices.map(function (c, i) { return i + ": " + c; }).join("\n")));
    (item.judge || []).forEach(function (j) {
      add(box, field("judge, turn " + j.turn + ": " + j.verdict + " \u2014 " + j.by, j.rationale));
    });
    (item.ratings || []).forEach(function (r) {
      add(box, field("rated by " + r.annotator + " (" + r.rubric + ")", r.value + (r.note ? "\nnote: " + r.note : "")));
    });
    return box;
  }

  function judgeText(item) {
    return (item.judge || []).map(function (j) { return j.verdict; }).join("; ");
  }

  function ratingText(item) {
    return (item.ratings || []).map(function (r) { return r.annotator + ": " + r.value; }).join("; ");
  }

  function itemsTable(run) {
    var judged = run.items.some(function (i) { return i.judge; });
    var rated = run.items.some(function (i) { return i.ratings; });
    var columns = ["item", "prompt", "answer", "reference", run.metric || "score"];
    if (judged) columns.push("judge");
    if (rated) columns.push("ratings");
    return pagedTable({
      what: "items",
      rows: run.items,
      columns: columns,
      numeric: [true, false, false, false, true, false, false],
      cells: function (i) {
        var cells = [i.doc, i.prompt, i.output, i.reference, i.score];
        if (judged) cells.push(judgeText(i));
        if (rated) cells.push(ratingText(i));
        return cells;
      },
      isWrong: function (i) { return i.wrong; },
      searchText: function (i) {
        return [i.doc, i.prompt, i.output, i.reference, judgeText(i), ratingText(i)]
          .concat((i.judge || []).map(function (j) { return j.rationale; })).join("\n");
      },
      filterLabel: "wrong answers only" + (run.binary ? " (" + run.wrong + ")" : ""),
      filterable: run.binary,
      filterNote: "The items' metric (" + (run.metric || "none") + ") is not right/wrong (0/1).",
      detail: itemDetail,
    });
  }

  function flipsTable(table) {
    var rows = table.rows;
    return pagedTable({
      what: "changed items",
      rows: rows,
      columns: table.columns,
      numeric: table.columns.map(function (c) { return ["doc_id", "doc_id_b", "a", "b", "diff"].indexOf(c) >= 0; }),
      cells: function (r) { return r; },
      isWrong: function () { return false; },
      searchText: function (r) { return r.join("\n"); },
      detail: function (r) {
        var box = el("div", "item-detail");
        table.columns.forEach(function (c, k) { add(box, field(c, shown(r[k]))); });
        return box;
      },
    });
  }

  function section(s, index) {
    var box = el("section", "part");
    box.id = "section-" + index;
    add(box, el("h2", null, s.title));
    (s.notes || []).forEach(function (n) { add(box, el("p", "note", n)); });
    (s.tables || []).forEach(function (t) { add(box, staticTable(t)); });
    (s.charts || []).forEach(function (f) { add(box, chart(f)); });
    if (s.flips) add(box, el("h3", null, s.flips.title), flipsTable(s.flips));
    return box;
  }

  function settings(run) {
    var details = el("details", "settings");
    add(details, el("summary", null, run.label));
    var t = el("table", "settings");
    run.settings.forEach(function (row) {
      add(t, add(el("tr"), el("th", null, row[0]), add(el("td"), el("pre", null, row[1]))));
    });
    if (run.judges.length) add(t, add(el("tr"), el("th", null, "judged by"), el("td", null, run.judges.join("; "))));
    return add(details, t);
  }

  function itemsSection(runs) {
    var box = el("section", "part");
    box.id = "items";
    add(box, el("h2", null, "Items"));
    add(box, el("p", "note", "Click an item for its whole prompt, answer, options, the judge's rationale and ratings."));
    var holder = el("div");
    function show(k) {
      var run = runs[k];
      holder.textContent = "";
      var about = run.items.length + " items of " + run.label + (run.metric ? ", scored by " + run.metric : "");
      if (run.binary) about += "; " + run.wrong + " wrong";
      if (run.judges.length) about += "; judged by " + run.judges.join(", ");
      if (run.rated) about += "; " + run.rated + " items rated by people";
      add(holder, el("p", "note", about), itemsTable(run));
    }
    if (runs.length > 1) {
      var pick = el("select", "run-pick");
      pick.setAttribute("aria-label", "run");
      runs.forEach(function (r, k) { var o = el("option", null, r.label); o.value = String(k); add(pick, o); });
      pick.addEventListener("change", function () { show(+pick.value); });
      add(box, add(el("label", "pick", "Run: "), pick));
    }
    add(box, holder);
    if (runs.length) show(0);
    return box;
  }

  function unpackPlotly() {
    var node = document.getElementById("plotly-gzip-base64");
    if (!node || typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack the charts (it lacks DecompressionStream)"));
    }
    var bin = atob(node.textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(function (code) {
      var script = document.createElement("script");
      script.textContent = code;
      document.head.appendChild(script);
      if (!window.Plotly) throw new Error("plotly.js did not load");
      return window.Plotly;
    });
  }

  document.getElementById("meta").textContent = "Made " + data.generated + " by llm-eval-workbench " +
    data.workbench + ". A self-contained file: it opens offline and fetches nothing.";
  var nav = el("nav");
  var parts = data.sections.map(section);
  parts.forEach(function (p, k) {
    var a = el("a", null, data.sections[k].title);
    a.href = "#" + p.id;
    add(nav, a);
  });
  [["#settings", "Settings"], ["#items", "Items"]].forEach(function (x) {
    var a = el("a", null, x[1]);
    a.href = x[0];
    add(nav, a);
  });
  add(main, nav);
  parts.forEach(function (p) { add(main, p); });
  var runsBox = el("section", "part");
  runsBox.id = "settings";
  add(runsBox, el("h2", null, "Settings"));
  data.runs.forEach(function (r) { add(runsBox, settings(r)); });
  if (data.runs.length === 1) runsBox.querySelector("details").open = true;
  add(main, runsBox, itemsSection(data.runs));

  if (pending.length) {
    unpackPlotly().then(function (Plotly) {
      pending.forEach(function (p) {
        Plotly.newPlot(p[0], p[1].data, p[1].layout, { responsive: true, displaylogo: false });
      });
      document.body.setAttribute("data-charts", "drawn");
    }).catch(function (error) {
      pending.forEach(function (p) { p[0].textContent = "Chart not shown: " + error.message + "."; });
      document.body.setAttribute("data-charts", "failed");
    });
  }
})();

// Smart-dispatch suggestions from POST /api/v1/dispatch/suggest/: categories, route, duplicates,
// knowledge-base answers. Everything is written with textContent (never innerHTML): case texts
// are user input. A 404 (endpoint not installed) or any failure shows nothing.
(function () {
  "use strict";
  var URL_ = "/api/v1/dispatch/suggest/";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function pct(x) { return Math.round((Number(x) || 0) * 100) + "%"; }
  function num(v) { return v === "" || v === undefined || v === null || isNaN(parseFloat(v)) ? null : parseFloat(v); }

  function suggest(body) {
    return fetch(URL_, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.yiwang.csrfToken() },
      body: JSON.stringify(body)
    }).then(function (res) {
      if (!res.ok) { return null; }
      return res.json();
    }).catch(function () { return null; });
  }

  // --- the queue: one short line per registered row, fetched one after another ------------------
  function fillQueue(form) {
    var caseUrl = form.dataset.caseUrl;
    var cells = Array.prototype.slice.call(form.querySelectorAll(".suggest-cell[data-suggest-text]"), 0, 50);
    var chain = Promise.resolve();
    cells.forEach(function (cell) {
      chain = chain.then(function () {
        return suggest({ text: cell.dataset.suggestText, lng: num(cell.dataset.lng), lat: num(cell.dataset.lat), category: null })
          .then(function (data) {
            if (!data) { return; }
            var top = (data.categories || [])[0];
            if (top) { cell.appendChild(el("div", top.name + " " + pct(top.confidence))); }
            if (data.route && data.route.lead) { cell.appendChild(el("div", "→ " + data.route.lead.name)); }
            (data.duplicates || []).slice(0, 3).forEach(function (d) {
              if (d.number === cell.dataset.number) { return; }
              var line = el("div", null, "muted");
              line.appendChild(document.createTextNode("≈ "));
              var a = el("a", d.number);
              a.href = caseUrl.replace(/0\/?$/, d.case_id + "/");
              line.appendChild(a);
              cell.appendChild(line);
            });
          });
      });
    });
  }

  // --- the intake form: debounced while typing --------------------------------------------------
  function renderIntake(panel, form, data) {
    var caseUrl = panel.dataset.caseUrl;
    var body = panel.querySelector(".suggest-body");
    body.textContent = "";
    if (!data) { panel.hidden = true; return; }
    panel.hidden = false;
    var cats = data.categories || [];
    if (cats.length) {
      body.appendChild(el("h3", panel.dataset.tCategories));
      var ul = el("ul");
      cats.slice(0, 5).forEach(function (c) {
        var li = el("li", c.name + " (" + c.code + ") " + pct(c.confidence) + " ");
        var b = el("button", panel.dataset.tUse, "secondary");
        b.type = "button";
        b.addEventListener("click", function () {
          var select = form.querySelector("[name=category]");
          if (select) { select.value = c.code; select.dispatchEvent(new Event("change", { bubbles: true })); }
        });
        li.appendChild(b);
        ul.appendChild(li);
      });
      body.appendChild(ul);
    }
    if (data.route && data.route.lead) {
      body.appendChild(el("h3", panel.dataset.tRoute));
      var names = [data.route.lead.name].concat((data.route.assisting || []).map(function (a) { return a.name; }));
      body.appendChild(el("p", names.join(" / ")));
      if (data.route.explanation) { body.appendChild(el("p", data.route.explanation, "muted")); }
    }
    var dups = data.duplicates || [];
    if (dups.length) {
      body.appendChild(el("h3", panel.dataset.tDuplicates));
      var dl = el("ul");
      dups.slice(0, 5).forEach(function (d) {
        var li = el("li");
        var a = el("a", d.number);
        a.href = caseUrl.replace(/0\/?$/, d.case_id + "/");
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + d.title + " · " + pct(d.score) + (d.distance_m != null ? " · " + Math.round(d.distance_m) + " m" : "")));
        dl.appendChild(li);
      });
      body.appendChild(dl);
    }
    var answers = data.answers || [];
    if (answers.length) {
      body.appendChild(el("h3", panel.dataset.tAnswers));
      answers.slice(0, 3).forEach(function (ans) {
        var box = el("div", null, "card");
        box.appendChild(el("p", ans.question, "muted"));
        box.appendChild(el("p", ans.answer, "pre"));
        var b = el("button", panel.dataset.tAnswer, "secondary");
        b.type = "button";
        b.addEventListener("click", function () {
          var area = form.querySelector("[name=answer]");
          if (area) { area.value = ans.answer; area.focus(); }
        });
        box.appendChild(b);
        body.appendChild(box);
      });
    }
    if (!body.childNodes.length) { panel.hidden = true; }
  }

  function watchIntake(form, panel) {
    var timer = null, last = "";
    function run() {
      var text = ((form.querySelector("[name=title]") || {}).value || "") + " " + ((form.querySelector("[name=description]") || {}).value || "");
      text = text.trim();
      if (text.length < 4) { return; }
      var body = {
        text: text,
        lng: num((form.querySelector("[name=lng]") || {}).value),
        lat: num((form.querySelector("[name=lat]") || {}).value),
        category: (form.querySelector("[name=category]") || {}).value || null
      };
      var key = JSON.stringify(body);
      if (key === last) { return; }
      last = key;
      suggest(body).then(function (data) { renderIntake(panel, form, data); });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
    run();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queueForm = document.getElementById("queue-form");
    if (queueForm) { fillQueue(queueForm); }
    var intake = document.getElementById("intake-form");
    var panel = document.getElementById("suggestions");
    if (intake && panel) { watchIntake(intake, panel); }
  });
})();

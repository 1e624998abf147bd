// Live CRS/ICANS grade on the daily assessment form.
//
// This script never grades: it serialises the inputs into the same JSON the CLI takes and
// asks the server's engine (POST /api/grade/crs and /api/grade/icans) for the grade and its
// reasons, then shows them. Saving recomputes the grade on the server and stores it.
// The CRS URL names the patient (and the assessment being corrected): the server grades the
// observation with the patient's earlier assessments, as the save will (contract v2 item 2:
// premedication is not CRS therapy), so the time of the observation is sent with it.
// Loaded as a static file because the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form || form.dataset.live !== "assessment") { return; }
  var tokenInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var token = tokenInput ? tokenInput.value : "";

  function put(target, path, value) {
    var parts = path.split(".");
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      if (typeof node[parts[i]] !== "object" || node[parts[i]] === null) { node[parts[i]] = {}; }
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  // Text → JSON value by the input's declared kind; undefined = leave out (server default).
  function valueOf(el) {
    var kind = el.dataset.kind;
    if (kind === "bool") { return el.checked; }
    if (kind === "multi") {
      var out = [];
      el.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        if (box.checked) { out.push(box.value); }
      });
      return out;
    }
    var raw = (el.value || "").trim();
    if (raw === "") { return undefined; }
    if (kind === "number" || kind === "integer") {
      var n = Number(raw.replace(",", "."));
      return isNaN(n) ? raw : n; // a non-number goes as text so the server names the problem
    }
    if (kind === "tristate") { return raw === "yes" ? true : raw === "no" ? false : undefined; }
    return raw;
  }

  function collect(prefix) {
    var fieldset = form.querySelector('fieldset[data-prefix="' + prefix + '"]');
    var payload = {};
    if (!fieldset) { return payload; }
    fieldset.querySelectorAll("[data-path]").forEach(function (el) {
      if (el.closest("fieldset[data-prefix]") !== fieldset) { return; }
      if (el.tagName === "INPUT" && el.closest("fieldset.multi")) { return; }
      var path = el.dataset.path;
      if (path === "assessed") { return; }
      var value = valueOf(el);
      if (value !== undefined) { put(payload, path, value); }
    });
    return payload;
  }

  // The shared "When" time (outside the CRS fieldset) places the observation in the course.
  function crsPayload() {
    var payload = collect("crs.");
    var when = form.querySelector('input[data-path="observed_at"]');
    var value = when ? valueOf(when) : undefined;
    if (value !== undefined) { payload.observed_at = value; }
    return payload;
  }

  function courseText(body) {
    if (body.earlier_assessments === undefined) { return ""; }
    var n = body.earlier_assessments;
    return n === 0 ? "first CRS assessment of this patient"
      : "graded with " + n + " earlier CRS assessment" + (n === 1 ? "" : "s") + " of this patient";
  }

  function show(block, state) {
    var grade = block.querySelector("[data-role=grade]");
    var standard = block.querySelector("[data-role=standard]");
    var reasons = block.querySelector("[data-role=reasons]");
    var note = block.querySelector("[data-role=note]");
    if (note) { note.textContent = state.note || ""; }
    var course = block.querySelector("[data-role=course]");
    if (course) { course.textContent = state.course || ""; }
    grade.className = "live-grade" + (state.grade !== undefined ? " grade g" + state.grade : " pending");
    grade.textContent = state.grade !== undefined ? "Grade " + state.grade : state.headline;
    standard.textContent = state.standard || "";
    reasons.textContent = "";
    (state.lines || []).forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      reasons.appendChild(li);
    });
  }

  var seq = { crs: 0, icans: 0 };

  function grade(kind) {
    var block = document.getElementById("live-" + kind);
    if (!block) { return; }
    if (kind === "icans") {
      var assessed = form.querySelector('input[name="icans.assessed"]');
      if (assessed && !assessed.checked) {
        show(block, { headline: "not assessed", lines: [] });
        return;
      }
    }
    var mine = ++seq[kind];
    fetch(form.dataset[kind + "Url"], {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(kind === "crs" ? crsPayload() : collect(kind + "."))
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (mine !== seq[kind]) { return; } // a newer request is on its way
        if (response.ok && body.grade === null) {
          // Not gradable yet (e.g. CRS without a temperature): never a grade, least of all
          // a green 0 on a blank form; the reasons say what is missing.
          show(block, {
            headline: "not graded yet", standard: body.standard, course: courseText(body),
            note: body.note, lines: body.reasons || []
          });
        } else if (response.ok) {
          show(block, {
            grade: body.grade, standard: body.standard, course: courseText(body),
            note: body.note, lines: body.reasons || []
          });
        } else if (response.status === 422) {
          show(block, {
            headline: "incomplete",
            lines: (body.detail || []).map(function (d) { return (d.path ? d.path + ": " : "") + d.msg; })
          });
        } else {
          show(block, { headline: "unavailable", lines: ["live grading failed (HTTP " + response.status + ")"] });
        }
      });
    }).catch(function () {
      if (mine === seq[kind]) { show(block, { headline: "unavailable", lines: ["no connection to the server"] }); }
    });
  }

  var timer = null;
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { grade("crs"); grade("icans"); }, 150);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  schedule();
}());

// The editor page: a list of answers with their check status, an edit form with
// live reading grade, SMS segments and previews, save, history and rollback; each
// answer's Spanish version is edited beside the English one (fields marked lang="es")
// and reviewed on its own. Every text is shown with textContent, never as HTML.
(function () {
  var current = null;       // {name, answer, version}
  var checkTimer = null;
  var limits = {max_grade: 8, max_words: 80, max_sms_segments: 2, min_reading_ease_es: 65, max_sms_segments_es: 4};
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    var options = {method: method, credentials: "same-origin", headers: {}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/editor/api/" + path, options).then(function (r) {
      if (r.status === 401) { location.href = "/editor/login?next=/editor"; throw new Error("login"); }
      return r.json().then(function (data) { return {status: r.status, data: data}; });
    });
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function loadList(select) {
    return api("GET", "answers").then(function (res) {
      var list = $("answers");
      list.textContent = "";
      if (res.data.limits) limits = res.data.limits;
      $("median").textContent = "Median reading grade of the web answers: " + res.data.median_grade +
        (res.data.median_reading_ease_es !== null ?
         "; median Spanish reading ease: " + res.data.median_reading_ease_es : "") +
        (res.data.general_problems.length ? " (" + res.data.general_problems.join("; ") + ")" : "");
      $("spanish-summary").textContent = res.data.spanish_unreviewed.length +
        " Spanish answer(s) not yet reviewed by a bilingual clinician; " + res.data.spanish_missing.length +
        " answer(s) without a Spanish version.";
      res.data.answers.forEach(function (row) {
        var item = el("li");
        item.dataset.words = (row.answer + " " + row.words).toLowerCase();
        item.dataset.spanishUnreviewed = row.spanish_unreviewed || !row.has_spanish ? "yes" : "no";
        var button = el("button", row.answer, "answer-link");
        button.type = "button";
        button.dataset.name = row.answer;
        button.addEventListener("click", function () { openAnswer(row.answer); });
        var badge = el("span", row.status === "ok" ? "OK" : "Problem: " + row.status,
                       row.status === "ok" ? "badge ok" : "badge bad");
        var facts = el("span", "grade " + (row.web_grade !== null ? row.web_grade : row.sms_grade) +
                       (row.sms_segments ? " · SMS " + row.sms_segments + " seg" : "") +
                       (row.reviewed ? " · reviewed " + row.reviewed : " · not reviewed") +
                       (!row.has_spanish ? " · no Spanish version" : row.es_reviewed ?
                        " · Spanish reviewed " + row.es_reviewed : " · Spanish not reviewed"), "hint");
        var preview = el("span", row.preview, "preview-line");  // so editors can find an answer by its words
        item.appendChild(button); item.appendChild(badge); item.appendChild(preview); item.appendChild(facts);
        if (current && current.name === row.answer) button.setAttribute("aria-current", "true");
        list.appendChild(item);
      });
      filter();
      if (select) openAnswer(select);
    });
  }

  function filter() {
    var words = $("filter").value.toLowerCase();
    var spanishOnly = $("spanish-filter").checked;
    Array.prototype.forEach.call($("answers").children, function (item) {
      item.hidden = (words && item.dataset.words.indexOf(words) === -1) ||
        (spanishOnly && item.dataset.spanishUnreviewed !== "yes");
    });
  }

  // "web", "sms", "es-web", "es-sms": the Spanish ones get lang="es" and "Spanish" in their labels.
  function isSpanish(form) { return form.indexOf("es-") === 0; }

  function buttonRows(form, buttons) {
    var box = $(form + "-buttons");
    box.textContent = "";
    (buttons || []).forEach(function (b, i) { addButtonRow(form, b, i); });
  }

  function addButtonRow(form, b, i) {
    var box = $(form + "-buttons");
    var n = box.children.length + 1;
    var row = el("div", null, "button-row");
    var kind = (isSpanish(form) ? "Spanish " : "") + (/sms$/.test(form) ? "choice " : "button ");
    kind = kind.charAt(0).toUpperCase() + kind.slice(1);
    var title = el("input"); title.value = b.title || ""; title.className = "b-title";
    title.setAttribute("aria-label", kind + n + " title");
    var payload = el("input"); payload.value = b.payload || ""; payload.className = "b-payload";
    payload.setAttribute("aria-label", kind + n + " sends");
    if (isSpanish(form)) { title.lang = "es"; payload.lang = "es"; }
    var remove = el("button", "Remove", "small"); remove.type = "button";
    remove.addEventListener("click", function () { row.remove(); scheduleCheck(); });
    [title, payload].forEach(function (input) { input.addEventListener("input", scheduleCheck); });
    row.appendChild(title); row.appendChild(payload); row.appendChild(remove);
    box.appendChild(row);
  }

  function readButtons(form) {
    return Array.prototype.map.call($(form + "-buttons").children, function (row) {
      return {title: row.querySelector(".b-title").value, payload: row.querySelector(".b-payload").value};
    });
  }

  function draft() {
    var answer = {source: $("source").value, reviewed_by: current.answer.reviewed_by,
                  reviewed_on: current.answer.reviewed_on};
    if (!current.answer.sms_only) {
      answer.web = {text: $("web-text").value, buttons: readButtons("web")};
      if (current.answer.web && current.answer.web.custom) answer.web.custom = current.answer.web.custom;
    }
    answer.sms = {text: $("sms-text").value, buttons: readButtons("sms")};
    var es = current.answer.es || {};
    answer.es = {reviewed_by: es.reviewed_by || null, reviewed_on: es.reviewed_on || null,
                 sms: {text: $("es-sms-text").value, buttons: readButtons("es-sms")}};
    if (!current.answer.sms_only) {
      answer.es.web = {text: $("es-web-text").value, buttons: readButtons("es-web")};
      if (es.web && es.web.custom) answer.es.web.custom = es.web.custom;
    }
    return answer;
  }

  function showProblems(messages) {
    var box = $("problems");
    box.textContent = "";
    if (!messages.length) return;
    box.appendChild(el("p", "These must be fixed before this answer can be saved:", "problem-title"));
    var list = el("ul", null, "problems");
    messages.forEach(function (m) { list.appendChild(el("li", m, "problem")); });
    box.appendChild(list);
  }

  function showPreviews(previews) {
    [["web", "sms", "", "Reading grade ", "grade", " (at most " + limits.max_grade + ")", limits.max_sms_segments],
     ["es-web", "es-sms", "es_", "Reading ease (Fernández-Huerta, higher is easier) ", "ease",
      " (at least " + limits.min_reading_ease_es + ")", limits.max_sms_segments_es]].forEach(function (f) {
      var web = previews[f[2] + "web"], sms = previews[f[2] + "sms"];
      $(f[0] + "-meter").textContent = web ? f[3] + web[f[4]] + f[5] + " · " + web.words + " words (at most " +
        limits.max_words + ")" : "";
      $(f[0] + "-preview").textContent = web ? web.text : "";
      var pb = $(f[0] + "-preview-buttons"); pb.textContent = "";
      if (web) web.buttons.forEach(function (b) { pb.appendChild(el("span", b.title, "preview-button")); });
      $(f[1] + "-meter").textContent = sms ? f[3] + sms[f[4]] + " · " + sms.segments +
        " SMS segment(s) at most (" + sms.characters + " characters with the longest dates, " + sms.encoding +
        "; at most " + f[6] + ")" : "";
      $(f[1] + "-preview").textContent = sms ? sms.body : "";
    });
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(function () {
      if (!current) return;
      api("POST", "answers/" + current.name + "/check", {answer: draft()}).then(function (res) {
        showProblems(res.data.messages || []);
        showPreviews(res.data.previews || {});
      });
    }, 250);
  }

  function openAnswer(name) {
    return api("GET", "answers/" + name).then(function (res) {
      var d = res.data;
      if (d.limits) limits = d.limits;
      current = {name: name, answer: d.answer, version: d.version};
      $("edit-title").textContent = name;
      $("form").hidden = false;
      $("history-part").hidden = false;
      $("status").textContent = "";
      $("source").value = d.answer.source || "";
      var options = $("sources"); options.textContent = "";
      Object.keys(d.sources).forEach(function (s) { var o = el("option"); o.value = s + ": "; options.appendChild(o); });
      $("reviewed").checked = false;
      $("reviewed-line").textContent = d.answer.reviewed_by ?
        "Last reviewed by " + d.answer.reviewed_by + " on " + d.answer.reviewed_on + "." : "Not reviewed yet.";
      $("web-part").hidden = !!d.answer.sms_only;
      $("web-text").value = d.answer.web ? d.answer.web.text : "";
      buttonRows("web", d.answer.web ? d.answer.web.buttons : []);
      $("sms-text").value = d.answer.sms ? d.answer.sms.text : "";
      buttonRows("sms", d.answer.sms ? d.answer.sms.buttons : []);
      var es = d.answer.es || {};
      $("reviewed-es").checked = false;
      $("es-reviewed-line").textContent = !d.answer.es ? "No Spanish version yet: write it below." :
        es.reviewed_by ? "Spanish last reviewed by " + es.reviewed_by + " on " + es.reviewed_on + "." :
        "The Spanish version is not yet reviewed by a bilingual clinician.";
      $("es-web-part").hidden = !!d.answer.sms_only;
      $("es-web-text").value = es.web ? es.web.text : "";
      buttonRows("es-web", es.web ? es.web.buttons : []);
      $("es-sms-text").value = es.sms ? es.sms.text : "";
      buttonRows("es-sms", es.sms ? es.sms.buttons : []);
      $("note").value = "";
      showProblems(d.messages || d.problems.map(function (p) { return p.message + ". Fix: " + p.fix; }));
      showPreviews(d.previews);
      showHistory(d.history);
      Array.prototype.forEach.call(document.querySelectorAll(".answer-link"), function (b) {
        if (b.dataset.name === name) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      });
    });
  }

  function showHistory(history) {
    var body = $("history");
    body.textContent = "";
    history.slice().reverse().forEach(function (entry, i) {
      var row = body.insertRow();
      row.insertCell().textContent = entry.version + (i === 0 ? " (live)" : "");
      row.insertCell().textContent = entry.at ? new Date(entry.at).toLocaleString() : "not saved in the editor";
      row.insertCell().textContent = entry.by;
      row.insertCell().textContent = entry.note || "";
      var text = (entry.answer.web || entry.answer.sms || {}).text || "";
      row.insertCell().textContent = text.length > 90 ? text.slice(0, 90) + "..." : text;
      var es = entry.answer.es || {};
      var spanish = (es.web || es.sms || {}).text || "";
      var esCell = row.insertCell();
      esCell.lang = "es";
      esCell.textContent = spanish.length > 90 ? spanish.slice(0, 90) + "..." : spanish;
      var cell = row.insertCell();
      if (i > 0) {
        var back = el("button", "Roll back to version " + entry.version, "small rollback");
        back.type = "button";
        back.addEventListener("click", function () { rollback(entry.version); });
        cell.appendChild(back);
      }
    });
  }

  function rollback(version) {
    // base_version: the version on screen; if someone saved since, the rollback is refused (409).
    api("POST", "answers/" + current.name + "/rollback",
        {version: version, base_version: current.version}).then(function (res) {
      if (res.status === 200) {
        loadList().then(function () { return openAnswer(current.name); }).then(function () {
          $("status").textContent = "Rolled back: version " + version + " is live again (now version " + res.data.version + ").";
        });
      } else {
        $("status").textContent = res.data.error || "Not rolled back.";
        showProblems(res.data.messages || []);
      }
    });
  }

  $("form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("save").disabled = true;
    api("POST", "answers/" + current.name, {answer: draft(), note: $("note").value, reviewed: $("reviewed").checked,
                                             reviewed_es: $("reviewed-es").checked, base_version: current.version})
      .then(function (res) {
        $("save").disabled = false;
        if (res.status === 200) {
          loadList().then(function () { return openAnswer(current.name); }).then(function () {
            $("status").textContent = "Saved as version " + res.data.version + ". Patients see it from the next message.";
          });
        } else {
          $("status").textContent = res.data.error || "Not saved.";
          showProblems(res.data.messages || []);
        }
      }, function () { $("save").disabled = false; });
  });

  ["source", "web-text", "sms-text", "es-web-text", "es-sms-text"].forEach(function (id) {
    $(id).addEventListener("input", scheduleCheck);
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-add]"), function (button) {
    button.addEventListener("click", function () { addButtonRow(button.dataset.add, {}, 0); });
  });
  $("filter").addEventListener("input", filter);
  $("spanish-filter").addEventListener("change", filter);
  api("GET", "me").then(function (res) { $("who").textContent = "Logged in as " + res.data.editor; });
  var wanted = new URLSearchParams(location.search).get("answer");
  loadList(wanted || null);
})();

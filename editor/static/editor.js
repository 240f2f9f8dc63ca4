// The editor page: a list of answers with their check status and clinical sign-off
// (drafts waiting, reviews due or never done, per language; files on disk that fail
// their checks), an edit form with live reading grade, SMS segments and previews,
// save as a draft, approve or reject (clinicians only: the server checks the role
// too), history and rollback; each answer's Spanish version is edited beside the
// English one (fields marked lang="es"). Every text is shown with textContent, never as HTML.
(function () {
  var current = null;       // {name, answer, version, draft}
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
      var failing = {};
      (res.data.gate_failures || []).forEach(function (f) { failing[f.answer] = f; });
      list.textContent = "";
      if (res.data.limits) limits = res.data.limits;
      $("median").textContent = "Median reading grade of the web answers: " + res.data.median_grade +
        (res.data.median_reading_ease_es !== null ?
         "; median Spanish reading ease: " + res.data.median_reading_ease_es : "") +
        (res.data.general_problems.length ? " (" + res.data.general_problems.join("; ") + ")" : "");
      showSignoffSummary(res.data);
      $("spanish-summary").textContent = res.data.spanish_unreviewed.length +
        " Spanish answer(s) not yet reviewed by a bilingual clinician; " + res.data.spanish_missing.length +
        " answer(s) without a Spanish version.";
      res.data.answers.forEach(function (row) {
        var item = el("li");
        item.dataset.words = (row.answer + " " + row.words).toLowerCase();
        item.dataset.spanishUnreviewed = row.spanish_unreviewed || !row.has_spanish ? "yes" : "no";
        item.dataset.review = reviewTags(row, failing).join(" ");
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
        item.appendChild(button); item.appendChild(badge);
        signoffBadges(row, failing).forEach(function (b) { item.appendChild(b); });
        item.appendChild(preview); item.appendChild(facts);
        if (current && current.name === row.answer) button.setAttribute("aria-current", "true");
        list.appendChild(item);
      });
      filter();
      if (select) openAnswer(select);
    });
  }

  var LANGUAGE_NAMES = {en: "English", es: "Spanish"};

  // "draft-en", "due-es", "never-en", "returned", "failing": what the list's filter looks for.
  function reviewTags(row, failing) {
    var tags = [];
    ["en", "es"].forEach(function (lang) {
      var r = row.review[lang];
      if (r.draft || (row.draft_waiting && lang === "en" && !row.review.es.draft)) tags.push("draft-" + lang);
      if (r.state === "due" || r.state === "never") tags.push(r.state + "-" + lang);
      if (r.state === "missing") tags.push("never-" + lang);
    });
    if (row.returned) tags.push("returned-en", "returned-es");
    if (failing[row.answer]) tags.push("failing-en", "failing-es");
    return tags;
  }

  function signoffBadges(row, failing) {
    var out = [];
    if (failing[row.answer]) out.push(el("span", "File fails its checks", "badge bad"));
    if (row.draft_waiting) out.push(el("span", "Draft waiting (by " + row.draft_by + ")", "badge wait"));
    if (row.returned) out.push(el("span", "Sent back by a clinician", "badge bad"));
    ["en", "es"].forEach(function (lang) {
      var state = row.review[lang].state;
      if (state === "due") out.push(el("span", LANGUAGE_NAMES[lang] + " review due", "badge wait"));
      if (state === "never") out.push(el("span", LANGUAGE_NAMES[lang] + " never reviewed", "badge wait"));
    });
    return out;
  }

  function showSignoffSummary(data) {
    var count = function (test) { return data.answers.filter(test).length; };
    var state = function (lang, s) { return count(function (r) { return r.review[lang].state === s; }); };
    $("signoff-summary").textContent = "Today " + data.today + ", reviews are due after " +
      data.review_interval_months + " months. Drafts waiting: " + count(function (r) { return r.draft_waiting; }) +
      ". Due: " + state("en", "due") + " English, " + state("es", "due") + " Spanish. Never reviewed: " +
      state("en", "never") + " English, " + state("es", "never") + " Spanish." +
      (data.four_eyes ? "" : " Four-eyes rule off (a demo): saves go live without a clinician, except " +
       data.always_approved.join(" and ") + ".");
    var box = $("gate-failures");
    box.textContent = "";
    (data.gate_failures || []).forEach(function (f) {
      box.appendChild(el("p", (f.not_imported ? f.answer + " was not imported from the files: it fails " :
        "The file of " + f.answer + " fails its checks: ") + f.checks.join(", ") + ". " +
        (f.serving ? "Patients keep getting its last good version." :
         "Patients keep getting the copy the bot already had."), "problem"));
    });
  }

  function filter() {
    var words = $("filter").value.toLowerCase();
    var spanishOnly = $("spanish-filter").checked;
    var review = $("review-filter").value, lang = $("review-language").value;
    Array.prototype.forEach.call($("answers").children, function (item) {
      var tags = item.dataset.review.split(" ");
      var wanted = !review || (lang === "any" ? tags.indexOf(review + "-en") !== -1 ||
        tags.indexOf(review + "-es") !== -1 : tags.indexOf(review + "-" + lang) !== -1);
      item.hidden = (words && item.dataset.words.indexOf(words) === -1) ||
        (spanishOnly && item.dataset.spanishUnreviewed !== "yes") || !wanted;
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
      // the form shows the draft waiting, or the draft sent back, else the live answer
      var shown = d.draft ? d.draft.answer : d.returned ? d.returned.answer : d.answer;
      current = {name: name, answer: shown, version: d.version, draft: d.draft};
      $("edit-title").textContent = name;
      $("form").hidden = false;
      $("history-part").hidden = false;
      $("status").textContent = "";
      showSignoff(d);
      $("source").value = shown.source || "";
      var options = $("sources"); options.textContent = "";
      Object.keys(d.sources).forEach(function (s) { var o = el("option"); o.value = s + ": "; options.appendChild(o); });
      $("reviewed-line").textContent = d.answer.reviewed_by ? "The live English was last approved by " +
        d.answer.reviewed_by + " on " + d.answer.reviewed_on + "." : "The live English was never clinically approved.";
      $("web-part").hidden = !!shown.sms_only;
      $("web-text").value = shown.web ? shown.web.text : "";
      buttonRows("web", shown.web ? shown.web.buttons : []);
      $("sms-text").value = shown.sms ? shown.sms.text : "";
      buttonRows("sms", shown.sms ? shown.sms.buttons : []);
      var es = shown.es || {}, liveEs = d.answer.es || {};
      $("es-reviewed-line").textContent = !shown.es ? "No Spanish version yet: write it below." :
        liveEs.reviewed_by ? "The live Spanish was last approved by " + liveEs.reviewed_by + " on " +
        liveEs.reviewed_on + "." : "The live Spanish was never approved by a bilingual clinician.";
      $("es-web-part").hidden = !!shown.sms_only;
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

  function showSignoff(d) {
    var state = d.draft ? "Draft version " + d.draft.version + " by " + d.draft.by + " is waiting for a clinician" +
      (d.draft_changes.indexOf("es") !== -1 ? " (it changes the Spanish: a bilingual clinician must approve it)" : "") +
      ". Patients get the live version until it is approved; the form shows the draft." :
      "Patients get the live version shown" + (d.four_eyes ? "; a saved change waits for a clinician's approval." :
      "; the four-eyes rule is off (a demo), so a save goes live at once, marked not clinically approved.");
    $("signoff-state").textContent = state;
    var back = $("returned-note");
    back.hidden = !d.returned;
    if (d.returned) {
      back.textContent = "Sent back by " + d.returned.by + ": " + d.returned.note + " (the form shows that draft).";
    }
    $("gate-note").hidden = !d.gate;
    if (d.gate) {
      $("gate-note").textContent = "The file on disk fails its checks (" + d.gate.checks.join(", ") +
        "): patients keep getting the last good version.";
    }
    // the buttons only for the roles that may use them; the server checks again
    $("decide").hidden = !d.approver;
    $("reject").hidden = !d.draft;
    $("approve").textContent = d.draft ? "Approve version " + d.draft.version + " (it goes live)" :
      "Approve the live version again (a new review)";
    $("approve").disabled = $("reject").disabled = !!d.approve_refused;
    $("decide-refused").hidden = !d.approve_refused;
    $("decide-refused").textContent = d.approve_refused || "";
    $("decision-note").value = "";
  }

  function decide(action) {
    var version = current.draft ? current.draft.version : current.version;
    api("POST", "answers/" + current.name + "/" + action, {version: version, note: $("decision-note").value})
      .then(function (res) {
        if (res.status === 200) {
          loadList().then(function () { return openAnswer(current.name); }).then(function () {
            $("status").textContent = action === "approve" ? "Approved: version " + res.data.version +
              " is live. Patients see it from the next message." : "Sent back to its author with your note.";
          });
        } else {
          $("status").textContent = res.data.error || "Not done.";
          showProblems(res.data.messages || []);
        }
      });
  }

  var STATES = {draft: "draft, waiting", rejected: "sent back", approved: "approved, live"};

  function showHistory(history) {
    var body = $("history");
    body.textContent = "";
    var liveEntry = history.slice().reverse().filter(function (e) {
      return e.state !== "draft" && e.state !== "rejected";
    })[0];
    history.slice().reverse().forEach(function (entry, i) {
      var row = body.insertRow();
      row.insertCell().textContent = entry.version + (entry === liveEntry ? " (live)" : "");
      row.insertCell().textContent = entry.at ? new Date(entry.at).toLocaleString() : "not saved in the editor";
      row.insertCell().textContent = entry.by;
      row.insertCell().textContent = STATES[entry.state] || "live then";
      row.insertCell().textContent = (entry.note || "") + (entry.author && entry.author !== entry.by ?
        " (written by " + entry.author + ")" : "");
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
          $("status").textContent = res.data.draft ? "Rollback to version " + version + " saved as draft version " +
            res.data.version + ": it goes live when a clinician approves it." :
            "Rolled back: version " + version + " is live again (now version " + res.data.version + ").";
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
    api("POST", "answers/" + current.name, {answer: draft(), note: $("note").value, base_version: current.version})
      .then(function (res) {
        $("save").disabled = false;
        if (res.status === 200) {
          loadList().then(function () { return openAnswer(current.name); }).then(function () {
            $("status").textContent = res.data.draft ? "Saved as draft version " + res.data.version +
              ". Patients keep getting the live answer until a clinician approves it." :
              "Saved as version " + res.data.version + " (not clinically approved). Patients see it from the next message.";
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
  $("review-filter").addEventListener("change", filter);
  $("review-language").addEventListener("change", filter);
  $("approve").addEventListener("click", function () { decide("approve"); });
  $("reject").addEventListener("click", function () { decide("reject"); });
  api("GET", "me").then(function (res) {
    $("who").textContent = "Logged in as " + res.data.editor;
    $("can").textContent = "(" + (res.data.role || "editor") + ": you may " + res.data.can + ")";
    Object.keys(res.data.roles || {}).forEach(function (role) {
      $("roles").appendChild(el("li", role + ": " + res.data.roles[role]));
    });
  });
  var wanted = new URLSearchParams(location.search).get("answer");
  loadList(wanted || null);
})();

// The report page: groups of messages the bot could not answer, most frequent first.
(function () {
  fetch("/editor/api/report", {credentials: "same-origin"}).then(function (r) {
    if (r.status === 401) { location.href = "/editor/login?next=/editor/report"; return null; }
    return r.json();
  }).then(function (data) {
    if (!data) return;
    document.getElementById("about").textContent = "Messages from the last " + data.retention_days +
      " days where the bot gave its fallback or out-of-scope answer, or was unsure: then it offers the likely " +
      "topics (\"Topics offered\") and the patient may pick one, or another from the full list after " +
      "\"Something else\" (\"Picked\"). Older ones are deleted. " +
      "Add the common ones, with the topic picked, as new questions (NLU examples) or new answers.";
    var body = document.getElementById("groups");
    if (!data.groups.length) {
      var row = body.insertRow(); var cell = row.insertCell(); cell.colSpan = 8;
      cell.textContent = "Nothing yet.";
    }
    data.groups.forEach(function (g) {
      var row = body.insertRow();
      [String(g.count), g.text, Object.keys(g.kinds).map(function (k) { return k + " (" + g.kinds[k] + ")"; }).join(", "),
       g.closest_topic || "", (g.offered || []).join(", "),
       Object.keys(g.picked || {}).map(function (k) { return k + " (" + g.picked[k] + ")"; }).join(", "),
       g.channels.join(", "), new Date(g.last * 1000).toLocaleString()].forEach(function (value) {
        row.insertCell().textContent = value;
      });
    });
  });
})();

// "Add as training example": each box is saved at once, for a developer (make report).
(function () {
  var status = document.getElementById("train-status");
  document.querySelectorAll("input.train").forEach(function (box) {
    box.addEventListener("change", function () {
      box.disabled = true;
      fetch("/editor/api/report/training", {
        method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({message_id: box.dataset.message, marked: box.checked})
      }).then(function (r) {
        if (r.status === 401) { location.href = "/editor/login?next=/editor/report"; return; }
        if (!r.ok) { throw new Error(String(r.status)); }
        status.textContent = box.checked ? "Marked as a training example." : "No longer marked.";
      }).catch(function () {
        box.checked = !box.checked;
        status.textContent = "Not saved: try again.";
      }).finally(function () { box.disabled = false; });
    });
  });
})();

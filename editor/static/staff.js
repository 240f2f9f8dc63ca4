// The staff page: sends the first text through POST /editor/api/first-text (login cookie).
(function () {
  "use strict";
  var form = document.getElementById("first-text");
  var reason = document.getElementById("reason");
  var dateField = document.getElementById("date-field");
  var result = document.getElementById("result");

  function showDate() {
    dateField.hidden = reason.value !== "hsg_booked";
    document.getElementById("hsg_date").required = !dateField.hidden;
  }
  reason.addEventListener("change", showDate);
  showDate();

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      mobile: document.getElementById("mobile").value,
      language: document.getElementById("language").value,
      reason: reason.value
    };
    if (reason.value === "hsg_booked") body.hsg_date = document.getElementById("hsg_date").value;
    result.textContent = "Sending...";
    result.className = "";
    fetch("/editor/api/first-text", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (answer) {
      if (answer.ok) {
        result.textContent = "Sent to " + answer.data.to + ": \u201c" + answer.data.text + "\u201d";
        form.reset();
        showDate();
      } else {
        result.textContent = "Not sent: " + (answer.data.error || "the server refused it");
        result.className = "problem";
      }
    }).catch(function () {
      result.textContent = "Not sent: the server could not be reached. Try again.";
      result.className = "problem";
    });
  });
})();

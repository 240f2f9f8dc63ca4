// Shows why a login failed and keeps the page the editor wanted.
(function () {
  var params = new URLSearchParams(location.search);
  var messages = {
    bad: "That name and password do not match an editor account."
  };  // a throttled login gets its page from the server, with the wait filled in
  var error = params.get("error");
  if (messages[error]) {
    var box = document.getElementById("login-error");
    box.textContent = messages[error];
    box.hidden = false;
  }
  var next = params.get("next");
  if (next && next.indexOf("/editor") === 0) document.getElementById("next").value = next;
  document.getElementById("name").focus();
})();

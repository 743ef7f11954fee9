// Progressive enhancement only: the portal works without this file.
// When an htmx request fails, say so where the seller tapped, in words that fit what went wrong, with a Retry that
// sends the same answer again (the walk records a repeated answer once). Requests not sent by a form (search as you
// type) say it in the banner at the top of the page.
(function () {
  var WORDS = {
    offline: "You seem to be offline. Check your connection, then tap Retry.",
    unreachable: "We couldn't reach the help site. Check your connection, then tap Retry.",
    timeout: "This is taking longer than it should. Check your connection, then tap Retry.",
    server: "Something went wrong on our side. Please tap Retry in a moment."
  };
  var submitters = new WeakMap();

  // Which button sent a form, so Retry sends the same answer.
  document.addEventListener("submit", function (event) {
    submitters.set(event.target, event.submitter || null);
  }, true);

  document.addEventListener("htmx:sendError", function (event) {
    show(event, navigator.onLine === false ? "offline" : "unreachable");
  });
  document.addEventListener("htmx:timeout", function (event) { show(event, "timeout"); });
  document.addEventListener("htmx:responseError", function (event) { show(event, "server"); });

  // The first answer starts the run: the start page's history entry becomes the run's step 1, so the phone's Back
  // from step 2 shows step 1 of the same run (each step has its address, ?at=<number>) and never a fresh one.
  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var form = event.detail.elt;
    var path = event.detail.history.path;
    if (event.detail.history.type === "push" && form && form.querySelector && form.querySelector('input[name="run"]')) {
      history.replaceState(history.state, "", path.replace(/\?at=\d+$/, "?at=1"));
    }
  });

  function show(event, kind) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") {
      var banner = document.getElementById("connection-problem");
      if (banner) {
        banner.textContent = WORDS[kind].replace("tap Retry", "try again").replace("Please tap Retry", "Please try again");
        banner.hidden = false;
      }
      return;
    }
    var note = form.querySelector(".tap-problem");
    if (!note) {
      note = document.createElement("div");
      note.className = "notice tap-problem";
      note.setAttribute("role", "alert");
      var fieldset = form.querySelector("fieldset");
      if (fieldset) fieldset.after(note); else form.append(note);
    }
    // On the start page nothing is stored until the first answer arrives; on a run's page the answers so far are.
    var saved = form.querySelector('input[name="run"]') ? "" : " Your answers so far are saved.";
    var text = document.createElement("span");
    text.textContent = WORDS[kind] + saved;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary-button";
    retry.textContent = "Retry";
    retry.addEventListener("click", function () {
      var submitter = submitters.get(form);
      // A click, not requestSubmit(submitter): htmx sends the value of the button it saw clicked.
      if (submitter && submitter.isConnected) submitter.click(); else form.requestSubmit();
    });
    note.replaceChildren(text, " ", retry);
  }
})();

// The checker editor: the Markdown preview beside each step's source follows what is typed (the server renders and
// sanitises it, as for sellers). Delegated, so steps added on the page get it too. Without JavaScript the preview
// shows the saved text.
(function () {
  "use strict";
  const url = document.currentScript.dataset.previewUrl;
  const token = () => (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  const timers = new WeakMap();

  function preview(textarea) {
    const row = textarea.closest(".form-multiline, .form-row");
    const target = row && row.querySelector(".md-preview");
    if (!target) return;
    const body = new URLSearchParams({ body: textarea.value });
    fetch(url, { method: "POST", body, headers: { "X-CSRFToken": token() }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => { target.innerHTML = html; })
      .catch(() => {});
  }

  document.addEventListener("input", (event) => {
    const textarea = event.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !/(^|-)body$/.test(textarea.name)) return;
    clearTimeout(timers.get(textarea));
    timers.set(textarea, setTimeout(() => preview(textarea), 300));
  });
})();

// The checker and article editors. Everything here is an enhancement: without JavaScript the page is the admin's
// own form, positions are typed numbers, and an answer's "Next step" lists the checker's saved steps.
//
// - The Markdown preview beside each step's source follows what is typed (the server renders and sanitises it, as
//   for sellers).
// - Each answer's "Next step" lists the steps on the page as they are typed, added, renamed, reordered and deleted,
//   keeping what was chosen; "New step…" adds a step and points the answer at it. A new step's key follows its title
//   until the key is typed by hand. The server resolves the keys after saving the steps (ChoiceForm).
// - Steps and answers move with real buttons ("Move answer 'No' of step 'Token' up"); their positions are the order on the
//   page; "Add a step" at the top of the steps adds one and puts the cursor in it.
// - The slug the admin fills from the title is cut at a whole word, as new steps' keys are.
// - With unsaved changes, leaving the page asks first (the browser's own question), and the editor's own links
//   (Publish…, Versions, Change log, Preview) save first, then go there (`_continue_to`, honoured by the admin's response_change).
(function () {
  "use strict";
  const script = document.currentScript;
  const url = script.dataset.previewUrl;
  const token = () => (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  const timers = new WeakMap();
  const NEW_STEP = "__new__"; // never a key: keys are slugs

  // Markdown preview

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

  // The admin's autocomplete (an article's checkers), select2, puts its "Remove all items" cross inside the list of
  // chosen ones, where a list may hold items only (axe's "list"): each chosen checker keeps its own cross. This
  // script runs before the admin's starts select2 (on jQuery's ready).
  for (const select of document.querySelectorAll("select.admin-autocomplete[data-allow-clear]")) {
    select.dataset.allowClear = "false";
  }
  // Its search box has no name (axe's "label"): it is named after its field. select2 keeps that box as choices are
  // added and removed.
  window.addEventListener("load", () => setTimeout(() => {
    for (const search of document.querySelectorAll(".select2-search__field:not([aria-label])")) {
      const select = search.closest(".select2")?.previousElementSibling;
      const label = select && document.querySelector(`label[for="${select.id}"]`);
      search.setAttribute("aria-label", label ? label.textContent.replace(/:\s*$/, "").trim() : "Search");
    }
  }, 0));

  // The slug the admin fills from the title is cut at its length (50) inside a word ("...-connec"): cut at the
  // last whole word instead. Only a slug as the admin filled it: one typed by hand is left alone.
  function slugAtWord() {
    const slug = document.getElementById("id_slug"), title = document.getElementById("id_title");
    if (!slug || !title || typeof window.URLify !== "function") return;
    const length = slug.maxLength > 0 ? slug.maxLength : 50;
    const cut = window.URLify(title.value, length, false);
    const whole = window.URLify(title.value, 1000, false);
    if (slug.value === cut && whole.length > cut.length && whole[cut.length] !== "-") { // cut inside a word
      slug.value = cut.replace(/-[^-]*$/, "") || cut;
    }
  }
  for (const name of ["keyup", "change", "focus"]) { // once the admin's own handlers (prepopulate.js) have run
    document.addEventListener(name, (event) => {
      if (event.target.id === "id_title") setTimeout(slugAtWord, 0);
    }, true);
  }

  // The page's rows

  const form = document.querySelector("#checker_form, #article_form");
  if (!form) return;
  const field = (row, name) => row.querySelector(`[name="${row.id}-${name}"]`);
  const removed = (row) => Boolean(field(row, "DELETE") && field(row, "DELETE").checked);
  const rowsOf = (group, prefix) =>
    Array.from(group ? group.querySelectorAll(".djn-inline-form") : []).filter((row) =>
      new RegExp(`^${prefix}-\\d+$`).test(row.id));
  const stepGroup = () => document.getElementById("steps-group");
  const steps = () => rowsOf(stepGroup(), "steps");
  const answersOf = (step) => rowsOf(document.getElementById(`${step.id}-choices-group`), `${step.id}-choices`);
  const linksOf = (step) => rowsOf(document.getElementById(`${step.id}-links-group`), `${step.id}-links`);
  const allAnswers = () => steps().flatMap(answersOf);
  const text = (row, name) => ((field(row, name) || {}).value || "").trim();

  // Where answers go: the steps on the page

  const autoKeys = new WeakSet(); // key fields that follow their step's title (empty, or filled by this script)
  const lastKey = new WeakMap(); // key field → the key answers know it by

  function slugify(value) {
    let slug = value.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
      .replace(/[^\w\s-]/g, "").replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
    if (slug.length > 60) slug = slug.slice(0, 60).replace(/-[^-]*$/, "") || slug.slice(0, 60); // at a word
    return slug;
  }

  function uniqueKey(wanted, except) {
    const taken = new Set(steps().filter((s) => field(s, "key") !== except).map((s) => text(s, "key")));
    let key = wanted, n = 2;
    while (taken.has(key)) key = `${wanted}-${n++}`;
    return key;
  }

  function rename(keyField) {
    // Answers that went to the step by its old key follow it to the new one.
    const before = lastKey.get(keyField), after = keyField.value.trim();
    if (before && before !== after) {
      for (const answer of allAnswers()) {
        const select = field(answer, "next_step");
        if (select && select.value === before) {
          if (![...select.options].some((o) => o.value === after)) select.add(new Option(after, after));
          select.value = after;
        }
      }
    }
    lastKey.set(keyField, after);
  }

  function suggestKey(step) {
    const keyField = field(step, "key");
    if (!keyField || !autoKeys.has(keyField)) return;
    const title = text(step, "title");
    if (!title) return;
    keyField.value = uniqueKey(slugify(title) || "step", keyField);
    rename(keyField);
  }

  function stepOptions() {
    return steps().filter((s) => !removed(s) && text(s, "key")).map((s, i) =>
      [text(s, "key"), `${i + 1}. ${text(s, "title") || text(s, "key")}`]);
  }

  function syncSelects() {
    const options = stepOptions();
    const known = new Set(options.map(([key]) => key));
    const gone = new Map(steps().filter(removed).map((s) => [text(s, "key"), text(s, "title")]));
    for (const answer of allAnswers()) {
      const select = field(answer, "next_step");
      if (!select) continue;
      const chosen = select.value;
      const wanted = [["", "---------"], ...options];
      if (chosen && chosen !== NEW_STEP && !known.has(chosen)) {
        wanted.push([chosen, gone.has(chosen) ? `${gone.get(chosen) || chosen} (deleted)` : `${chosen} (not on this page)`]);
      }
      wanted.push([NEW_STEP, "New step…"]);
      const now = [...select.options].map((o) => [o.value, o.text]);
      if (JSON.stringify(now) !== JSON.stringify(wanted)) { // rewrite only what changed: focus and scroll stay
        select.replaceChildren(...wanted.map(([value, label]) => new Option(label, value)));
        select.value = chosen === NEW_STEP ? "" : chosen;
      }
    }
  }

  function addStep(focusIt) {
    const adder = stepGroup() && stepGroup().querySelector(".djn-add-handler.djn-model-troubleshoot-step");
    if (!adder) return null;
    const before = new Set(steps());
    focusNewStep = focusIt;
    adder.click(); // nested-admin's own "Add another Step": its numbering and templates
    focusNewStep = true;
    return steps().find((s) => !before.has(s)) || null;
  }

  function newStepFor(select) {
    const step = addStep(false);
    if (!step) { select.value = ""; return; }
    const keyField = field(step, "key");
    keyField.value = uniqueKey(`step-${steps().length}`, keyField);
    autoKeys.add(keyField);
    lastKey.set(keyField, keyField.value);
    syncSelects();
    select.value = keyField.value;
    setOutcome(select, "next");
    announce(`Step ${steps().length} added at the end of the steps; this answer goes to it. Give it a title there.`);
  }

  function setOutcome(select, value) {
    const outcome = select.closest(".djn-inline-form").querySelector('select[name$="-outcome"]');
    if (outcome && outcome.value !== value) outcome.value = value;
  }

  // Order: move up and down, positions from the page

  function untouched(row) {
    // A row added and left empty: the server skips it unless its position differs from the one it came with.
    return !text(row, "id") && [...row.querySelectorAll("input[type=text], input[type=url], textarea")]
      .every((input) => !input.value.trim());
  }

  function numberRows() {
    const groups = [steps(), ...steps().flatMap((s) => [answersOf(s), linksOf(s)])];
    for (const rows of groups) {
      let n = 0;
      for (const row of rows) {
        const position = field(row, "position");
        if (!position) continue;
        if (untouched(row)) position.value = position.defaultValue;
        else position.value = n++;
      }
    }
  }

  function moveButtons(row, kind) {
    const place = row.querySelector(kind === "step" ? ":scope > h3" : "td.field-label");
    if (!place || place.querySelector(".move")) return;
    const box = document.createElement("span");
    box.className = "move";
    for (const [direction, arrow] of [["up", "↑"], ["down", "↓"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `move-${direction}`;
      button.dataset.kind = kind;
      button.dataset.direction = direction;
      button.textContent = arrow;
      box.append(button);
    }
    place.prepend(box);
  }

  function ends(rows) {
    // The first row can't go up nor the last down: said, not hidden, so the buttons keep their places.
    rows.forEach((row, i) => {
      const up = row.querySelector(".move-up"), down = row.querySelector(".move-down");
      if (up) up.setAttribute("aria-disabled", String(i === 0));
      if (down) down.setAttribute("aria-disabled", String(i === rows.length - 1));
    });
  }

  function labelButtons() {
    for (const step of steps()) {
      moveButtons(step, "step");
      const name = text(step, "title") || text(step, "key") || "new";
      for (const button of step.querySelectorAll(":scope > h3 .move button")) {
        button.setAttribute("aria-label", `Move step '${name}' ${button.dataset.direction}`);
      }
      for (const answer of answersOf(step)) {
        moveButtons(answer, "answer");
        const label = text(answer, "label") || "new";
        for (const button of answer.querySelectorAll(".move button")) {
          button.setAttribute("aria-label", `Move answer '${label}' of step '${name}' ${button.dataset.direction}`);
        }
      }
      ends(answersOf(step));
    }
    ends(steps());
  }

  function move(button) {
    const row = button.closest(".djn-inline-form");
    const rows = button.dataset.kind === "step" ? steps() : rowsOf(row.parentElement.closest(".djn-group"),
      row.id.replace(/-\d+$/, ""));
    const i = rows.indexOf(row), j = button.dataset.direction === "up" ? i - 1 : i + 1;
    if (i < 0 || j < 0 || j >= rows.length) return;
    const other = rows[j];
    if (j < i) other.before(row); else other.after(row);
    numberRows();
    changed();
    sync(); // the ends of the list, and the steps' numbers in every "Next step"
    button.focus(); // the row moved with its focused button; keep the cursor on it
    const where = j === 0 ? "first" : j === rows.length - 1 ? "last" : `number ${j + 1} of ${rows.length}`;
    announce(`${button.dataset.kind === "step" ? "Step" : "Answer"} moved: now ${where}.`);
  }

  // Unsaved changes

  let dirty = Boolean(document.querySelector(".errornote")); // a refused save: the page holds what was typed
  let submitting = false;
  let focusNewStep = true;
  const status = document.createElement("p");
  status.className = "unsaved";
  status.setAttribute("role", "status");
  const live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");

  function announce(message) { live.textContent = message; }

  function changed() {
    dirty = true;
    status.textContent = document.querySelector("a[data-save-first]")
      ? "Unsaved changes. Publish…, Versions, Change log and Preview save them first." : "Unsaved changes.";
  }

  function hidden(name, value) {
    const input = form.querySelector(`input[type=hidden][name="${name}"]`) || document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }

  window.addEventListener("beforeunload", (event) => {
    if (!dirty || submitting) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only with this set
  });

  // On the document, so after nested-admin's own numbering on the form, which also numbers rows left empty (and
  // so makes the server check them).
  document.addEventListener("submit", (event) => {
    if (event.target !== form) return;
    numberRows();
    submitting = true;
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-save-first]");
    if (link && dirty) { // save, then go where the link goes (in this tab: the preview shows what was just saved)
      event.preventDefault();
      hidden("_continue", "1");
      hidden("_continue_to", link.getAttribute("href"));
      form.requestSubmit();
      return;
    }
    const button = event.target.closest(".move button");
    if (button) { move(button); return; }
    if (event.target.closest(".djn-delete-handler, .djn-remove-handler, .inline-deletelink")) {
      setTimeout(() => { changed(); sync(); }, 0); // nested-admin marks or removes the row on this click
    }
  });

  // Wiring

  function sync() { labelButtons(); syncSelects(); }

  function start() {
    document.documentElement.classList.add("editor-js");
    const group = stepGroup();
    if (group) {
      for (const step of steps()) {
        const keyField = field(step, "key");
        if (keyField && !keyField.value) autoKeys.add(keyField);
        if (keyField) lastKey.set(keyField, keyField.value.trim());
      }
      const heading = group.querySelector(":scope > fieldset > h2");
      const adder = document.createElement("button");
      adder.type = "button";
      adder.className = "add-step";
      adder.textContent = "Add a step";
      adder.addEventListener("click", () => addStep(true));
      if (heading) heading.after(adder);
      sync();
    }
    const tools = document.querySelector(".object-tools");
    (tools || form).before(status);
    form.append(live);
  }

  form.addEventListener("input", (event) => {
    changed();
    const target = event.target;
    const step = target.closest(".djn-inline-form");
    if (target.name && /^steps-\d+-title$/.test(target.name)) suggestKey(step);
    if (target.name && /^steps-\d+-key$/.test(target.name)) { autoKeys.delete(target); rename(target); }
    if (target.name && /^steps-\d+-(title|key)$|-label$/.test(target.name)) sync();
  });

  form.addEventListener("change", (event) => {
    changed();
    const target = event.target;
    if (target.name && target.name.endsWith("-next_step")) {
      if (target.value === NEW_STEP) newStepFor(target);
      else if (target.value) setOutcome(target, "next");
    } else if (target.name && target.name.endsWith("-outcome") && target.value !== "next") {
      const next = target.closest(".djn-inline-form").querySelector('select[name$="-next_step"]');
      if (next) next.value = "";
    }
    sync();
  });

  document.addEventListener("formset:added", (event) => {
    changed();
    const row = event.target;
    if (!(row instanceof Element)) return;
    if (/^steps-\d+$/.test(row.id)) {
      const keyField = field(row, "key");
      if (keyField) { autoKeys.add(keyField); lastKey.set(keyField, ""); }
      sync();
      if (focusNewStep) field(row, "title").focus();
    } else if (/^steps-\d+-choices-\d+$/.test(row.id)) {
      sync();
      field(row, "label").focus();
    } else {
      sync();
    }
  });
  document.addEventListener("formset:removed", () => { changed(); sync(); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => setTimeout(start, 0)); // after nested-admin sets up
  } else {
    setTimeout(start, 0);
  }
})();

// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The language switch submits itself and returns to the current page.
  for (const input of document.querySelectorAll("[data-current-path]")) {
    input.value = window.location.pathname + window.location.search;
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Switching language on a page with work in progress (a column mapping,
  // a survey being written): the choice is saved in the background, then
  // the work is sent to the address that shows it again, in the new
  // language, instead of leaving the page.
  const work = document.querySelector("form[data-keeps-work]");
  const langSelect = document.getElementById("lang-select");
  if (work && langSelect) {
    langSelect.addEventListener("change", (event) => {
      event.stopImmediatePropagation();
      const lang = langSelect.form;
      fetch(lang.action, { method: "POST", body: new URLSearchParams(new FormData(lang)), credentials: "same-origin" })
        .then(() => {
          work.action = work.dataset.keepsWork;
          work.submit();
        })
        .catch(() => lang.submit());
    }, { capture: true });
  }
  // Results being recomputed: the page looks again every few seconds and
  // offers a reload once the new results are there (it does not reload
  // under the reader).
  const updating = document.getElementById("results-updating");
  const ready = document.getElementById("results-ready");
  if (updating && ready) {
    let tries = 0;
    const check = () => {
      tries += 1;
      if (tries > 600) {
        return;
      }
      fetch(window.location.href, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : ""))
        .then((text) => {
          if (text && !text.includes('id="results-updating"')) {
            ready.hidden = false;
          } else {
            setTimeout(check, 3000);
          }
        })
        .catch(() => setTimeout(check, 3000));
    };
    setTimeout(check, 3000);
  }
  for (const button of document.querySelectorAll("[data-hide-with-js]")) {
    button.hidden = true;
  }
  // "Choose all on this page": shown only where the script runs.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`);
    all.hidden = false;
    all.addEventListener("change", () => {
      for (const b of boxes()) b.checked = all.checked;
    });
  }
  // The participant's page: without a zone in the address, show the times
  // in the browser's own zone (the list stays to change it).
  const zoneForm = document.getElementById("zone-form");
  if (zoneForm && !new URLSearchParams(window.location.search).has("tz")) {
    try {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const select = zoneForm.querySelector("select[name=tz]");
      if (zone && select && select.value !== zone && [...select.options].some((o) => o.value === zone)) {
        select.value = zone;
        zoneForm.submit();
      }
    } catch (e) {
      // No Intl: the server's guess stands.
    }
  }
  // Set-up: the organisation's zone defaults to this browser's zone (a
  // zone already chosen, or a browser without Intl, keeps the list's).
  for (const select of document.querySelectorAll("select[data-detect-zone]")) {
    try {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
    } catch (e) {
      // No Intl: UTC stands.
    }
  }
  // The booking form: a strip of days, then the times of the chosen day
  // (without the script every day is listed, one after the other).
  const slotDays = [...document.querySelectorAll("#slots fieldset.slot-day")];
  if (slotDays.length > 1) {
    const strip = document.createElement("div");
    strip.className = "day-strip";
    strip.setAttribute("role", "tablist");
    const show = (i) => {
      slotDays.forEach((d, j) => { d.hidden = j !== i; });
      [...strip.children].forEach((b, j) => b.setAttribute("aria-selected", String(j === i)));
    };
    slotDays.forEach((day, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.className = "day-tab";
      b.textContent = day.dataset.short || day.querySelector("legend").textContent;
      b.title = day.querySelector("legend").textContent;
      b.addEventListener("click", () => show(i));
      strip.appendChild(b);
    });
    slotDays[0].before(strip);
    // A day with a chosen time stays open (a form shown again).
    const checked = slotDays.findIndex((d) => d.querySelector("input:checked"));
    show(checked >= 0 ? checked : 0);
  }
  // Forms that must not be sent twice.
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    });
  }
  // Interview notes are never lost: a draft is kept in this browser on
  // every keystroke, restored if the page is opened again with unsaved
  // text, saved to the server every 15 seconds while there are changes,
  // and leaving the page with unsaved changes asks first.
  // Drafts belong to the account that wrote them (their key names it) and
  // go at sign-out, so that the next person on this browser never gets
  // someone else's notes in their form.
  const DRAFT = "undercurrent-draft:";
  const clearDrafts = () => {
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const k = localStorage.key(i);
        if (k && (k.startsWith(DRAFT) || k.startsWith("uc-draft-"))) localStorage.removeItem(k);
      }
    } catch (e) { /* storage unavailable: nothing kept */ }
  };
  for (const form of document.querySelectorAll("form[data-sign-out]")) {
    form.addEventListener("submit", clearDrafts);
  }
  if (document.querySelector("[data-signed-out]")) clearDrafts();
  try {
    // Drafts of an earlier version were keyed by interview only: owner unknown.
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (k && k.startsWith("uc-draft-")) localStorage.removeItem(k);
    }
  } catch (e) { /* storage unavailable */ }
  for (const form of document.querySelectorAll("form[data-autosave]")) {
    if (!form.dataset.draftOwner) continue;
    const key = DRAFT + form.dataset.draftOwner + ":" + form.dataset.autosave;
    const status = document.getElementById("autosave-status");
    const version = form.querySelector("input[name=version]");
    let dirty = false;
    const snapshot = () => {
      const data = {};
      for (const [k, v] of new FormData(form)) (data[k] = data[k] || []).push(v);
      return data;
    };
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const saved = snapshot();
    try {
      const draft = JSON.parse(localStorage.getItem(key) || "null");
      if (draft && draft.version === version.value && !same(draft.data, saved)) {
        for (const el of form.elements) {
          if (!el.name || el.name === "version") continue;
          const values = draft.data[el.name] || [];
          if (el.type === "checkbox" || el.type === "radio") el.checked = values.includes(el.value);
          else if (values.length) el.value = values[0];
        }
        dirty = true;
        const note = document.getElementById("draft-restored");
        if (note) note.hidden = false;
      } else if (draft) {
        localStorage.removeItem(key);
      }
    } catch (e) { /* storage unavailable: the server copy is all there is */ }
    const keep = () => {
      dirty = true;
      if (status) status.textContent = status.dataset.unsaved || "…";
      try { localStorage.setItem(key, JSON.stringify({ version: version.value, data: snapshot() })); } catch (e) { /* full */ }
    };
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    const autosave = async () => {
      if (!dirty) return;
      const body = new URLSearchParams(new FormData(form));
      try {
        const response = await fetch(form.action, {
          method: "POST", body, redirect: "manual", credentials: "same-origin",
          headers: { "X-Autosave": "1" },
        });
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          const note = document.getElementById("autosave-signed-out");
          if (note) note.hidden = false;
          return;
        }
        const answer = await response.json();
        if (response.ok && answer.saved) {
          version.value = String(answer.version);
          dirty = false;
          localStorage.removeItem(key);
          if (status) status.textContent = status.dataset.saved || "✓";
        }
      } catch (e) { /* offline: the draft stays in this browser */ }
    };
    setInterval(autosave, 15000);
  }
  // Upload progress for imports.
  for (const form of document.querySelectorAll("form[data-upload]")) {
    form.addEventListener("submit", (event) => {
      const progress = form.querySelector("progress");
      if (!progress || !window.XMLHttpRequest) return;
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; }
      });
      progress.hidden = false;
      for (const b of form.querySelectorAll("button")) b.disabled = true;
      xhr.addEventListener("load", () => {
        // The page stays at its own address: the post's URL carries the
        // form token and has no page of its own.
        document.open(); document.write(xhr.responseText); document.close();
      });
      xhr.send(new FormData(form));
    });
  }
  // The survey builder: the preview follows the text as it is written,
  // rendered by the server (the same page, its preview section taken over).
  const previewButton = document.getElementById("preview-survey");
  const preview = document.getElementById("survey-preview");
  if (previewButton && preview) {
    const form = previewButton.form;
    let timer = null;
    let asked = 0;
    const refresh = () => {
      const mine = ++asked;
      fetch(previewButton.formAction, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
        .then((r) => r.text())
        .then((html) => {
          if (mine !== asked) return;
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("survey-preview");
          if (fresh) preview.replaceChildren(...fresh.childNodes);
        })
        .catch(() => {});
    };
    form.querySelector("textarea[name=definition]").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }
});

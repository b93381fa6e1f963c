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
  for (const button of document.querySelectorAll("[data-hide-with-js]")) {
    button.hidden = true;
  }
  // Forms that must not be sent twice.
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    });
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
});

// Interview drafts in static/app.js, run under node with a small stand-in
// for the page: drafts are keyed by the account, never restored into
// another account's form, and cleared at sign-out. Exits non-zero on the
// first failure. Run by tests/participant_security.rs.
"use strict";
const fs = require("fs");
const path = require("path");
const assert = require("assert");

const source = fs.readFileSync(path.join(__dirname, "..", "..", "static", "app.js"), "utf8");

function storage(initial) {
  const map = new Map(Object.entries(initial || {}));
  return {
    get length() { return map.size; },
    key(i) { return Array.from(map.keys())[i] ?? null; },
    getItem(k) { return map.has(k) ? map.get(k) : null; },
    setItem(k, v) { map.set(k, String(v)); },
    removeItem(k) { map.delete(k); },
    keys() { return Array.from(map.keys()); },
  };
}

function element(name, value) {
  return { name, value, type: "textarea", checked: false };
}

function form(dataset, fields) {
  const listeners = {};
  const elements = fields;
  return {
    dataset,
    elements,
    action: "/interviews/7",
    addEventListener(type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    fire(type) { for (const fn of listeners[type] || []) fn({ preventDefault() {} }); },
    querySelector(sel) { return sel === "input[name=version]" ? elements.find((e) => e.name === "version") : null; },
    querySelectorAll() { return []; },
  };
}

// Runs app.js on a page made of `forms` (by selector) and `marks`.
function load(localStorage, forms, marks) {
  let ready = null;
  const document = {
    addEventListener(type, fn) { if (type === "DOMContentLoaded") ready = fn; },
    querySelectorAll(sel) { return forms[sel] || []; },
    querySelector(sel) { return (marks || {})[sel] || null; },
    getElementById() { return null; },
  };
  class FormData {
    constructor(f) { this.pairs = f.elements.filter((e) => e.name).map((e) => [e.name, e.value]); }
    [Symbol.iterator]() { return this.pairs[Symbol.iterator](); }
  }
  const window = { addEventListener() {}, location: { pathname: "/", search: "" } };
  const run = new Function("document", "window", "localStorage", "FormData", "setInterval", "fetch", "URLSearchParams", source);
  run(document, window, localStorage, FormData, () => 0, async () => ({}), URLSearchParams);
  assert.ok(ready, "app.js waits for DOMContentLoaded");
  ready();
}

function interviewForm(owner, notes) {
  return form(
    owner === null ? { autosave: "interview-7" } : { autosave: "interview-7", draftOwner: String(owner) },
    [element("version", "3"), element("notes", notes)],
  );
}

// 1. A draft is kept under a key that names the account.
{
  const ls = storage();
  const f = interviewForm(12, "");
  load(ls, { "form[data-autosave]": [f] });
  f.elements[1].value = "She reads only the pinned channel.";
  f.fire("input");
  assert.deepStrictEqual(ls.keys(), ["undercurrent-draft:12:interview-7"]);
  assert.ok(ls.getItem("undercurrent-draft:12:interview-7").includes("pinned channel"));
}

// 2. Another account's form on the same browser does not get it.
{
  const ls = storage({
    "undercurrent-draft:12:interview-7": JSON.stringify({ version: "3", data: { version: ["3"], notes: ["secret of 12"] } }),
  });
  const f = interviewForm(13, "");
  load(ls, { "form[data-autosave]": [f] });
  assert.strictEqual(f.elements[1].value, "", "not restored into account 13's form");
  // The owner still gets it back (a session that timed out loses nothing).
  const g = interviewForm(12, "");
  load(ls, { "form[data-autosave]": [g] });
  assert.strictEqual(g.elements[1].value, "secret of 12");
}

// 3. Drafts of the old, unowned kind are dropped, never restored.
{
  const ls = storage({
    "uc-draft-interview-7": JSON.stringify({ version: "3", data: { version: ["3"], notes: ["someone's notes"] } }),
  });
  const f = interviewForm(13, "");
  load(ls, { "form[data-autosave]": [f] });
  assert.strictEqual(f.elements[1].value, "");
  assert.deepStrictEqual(ls.keys(), []);
}

// 4. Signing out clears every draft, and nothing else.
{
  const ls = storage({
    "undercurrent-draft:12:interview-7": "{}",
    "undercurrent-draft:12:interview-9": "{}",
    "other-setting": "kept",
  });
  const signOut = form({}, []);
  load(ls, { "form[data-sign-out]": [signOut] });
  assert.strictEqual(ls.keys().length, 3, "nothing cleared before signing out");
  signOut.fire("submit");
  assert.deepStrictEqual(ls.keys(), ["other-setting"]);
}

// 5. A page marked as signed out clears them too.
{
  const ls = storage({ "undercurrent-draft:12:interview-7": "{}" });
  load(ls, {}, { "[data-signed-out]": {} });
  assert.deepStrictEqual(ls.keys(), []);
}

console.log("drafts: ok");

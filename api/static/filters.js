// The shared filters: outlets (from GET /v1/sources), a published date range and an "as of" date.

import { getJson } from "./api.js";
import { el, errorNotice } from "./render.js";

const outletList = () => document.getElementById("outlet-list");
const since = () => document.getElementById("filter-since");
const until = () => document.getElementById("filter-until");
const asOf = () => document.getElementById("filter-as-of");

export async function loadOutlets() {
  const list = outletList();
  const chosen = new Set(chosenOutlets());
  try {
    const { items } = await getJson("/v1/sources");
    if (!items.length) {
      list.replaceChildren(el("p", { class: "hint" }, "No articles yet."));
      return;
    }
    list.replaceChildren(...items.map((item, i) => {
      const id = `outlet-${i}`;
      return el("div", { class: "check" },
        el("input", { type: "checkbox", id, value: item.source, checked: chosen.has(item.source) }),
        el("label", { for: id }, `${item.source} (${item.articles})`));
    }));
  } catch (error) {
    list.replaceChildren(errorNotice(error));
  }
  describe();
}

function chosenOutlets() {
  return [...outletList().querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
}

// A date input gives "YYYY-MM-DD"; the range covers whole days in UTC, as the API reads zone-less times.
function dayStart(value) {
  return value ? `${value}T00:00:00Z` : null;
}

function dayEnd(value) {
  return value ? `${value}T23:59:59Z` : null;
}

// {filters, as_of} for a request body; filters is omitted when nothing is set.
export function currentFilters() {
  const filters = { sources: chosenOutlets(), since: dayStart(since().value), until: dayEnd(until().value) };
  const body = {};
  if (filters.sources.length || filters.since || filters.until) {
    body.filters = Object.fromEntries(Object.entries(filters).filter(([, v]) => v && (!Array.isArray(v) || v.length)));
  }
  if (asOf().value) body.as_of = dayEnd(asOf().value);
  return body;
}

// The same filters as GET /v1/articles query parameters.
export function filterParams() {
  const params = chosenOutlets().map((source) => ["source", source]);
  if (since().value) params.push(["since", dayStart(since().value)]);
  if (until().value) params.push(["until", dayEnd(until().value)]);
  return params;
}

function describe() {
  const parts = [];
  const outlets = chosenOutlets().length;
  if (outlets) parts.push(`${outlets} outlet${outlets > 1 ? "s" : ""}`);
  if (since().value || until().value) parts.push(`${since().value || "…"} to ${until().value || "…"}`);
  if (asOf().value) parts.push(`as of ${asOf().value}`);
  document.getElementById("filter-summary").textContent = parts.length ? `(${parts.join(", ")})` : "(none)";
}

export function setUpFilters(onChange) {
  const changed = () => {
    describe();
    onChange();
  };
  document.getElementById("filters").addEventListener("change", changed);
  document.getElementById("filter-reset").addEventListener("click", () => {
    for (const box of outletList().querySelectorAll("input[type=checkbox]")) box.checked = false;
    since().value = "";
    until().value = "";
    asOf().value = "";
    changed();
  });
  describe();
}

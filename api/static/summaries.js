// The summaries panel: pick articles and/or a topic (with the shared filters) and get a brief, digest or timeline,
// cited like an answer (POST /v1/summaries).

import { getJson, postJson } from "./api.js";
import { currentFilters } from "./filters.js";
import { el, errorNotice, formatDate, renderAnswer } from "./render.js";

const SEARCH_DELAY_MS = 250;

export function setUpSummaries({ capabilities, onCite }) {
  const form = document.getElementById("summary-form");
  const kind = document.getElementById("summary-kind");
  const topic = document.getElementById("summary-topic");
  const maxSentences = document.getElementById("summary-max");
  const search = document.getElementById("summary-search");
  const picks = document.getElementById("summary-picks");
  const button = document.getElementById("summary-button");
  const output = document.getElementById("summary-output");
  const picked = new Map(); // article id → title, kept across searches
  let searchTimer = null;

  if (!capabilities.summaries) {
    output.replaceChildren(el("p", { class: "notice", role: "note" }, "This server has no summaries endpoint yet."));
    button.disabled = true;
  }

  function pickBox(id, title, meta) {
    const boxId = `pick-${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    return el("div", { class: "check" },
      el("input", {
        type: "checkbox", id: boxId, value: id, checked: picked.has(id),
        onchange: (event) => (event.target.checked ? picked.set(id, title) : picked.delete(id)),
      }),
      el("label", { for: boxId }, title, meta ? el("span", { class: "hint" }, ` ${meta}`) : null));
  }

  async function findArticles() {
    const params = [["limit", 20]];
    if (search.value.trim()) params.push(["text", search.value.trim()]);
    try {
      const page = await getJson("/v1/articles", params);
      const found = page.items.filter((item) => !picked.has(item.id));
      picks.replaceChildren(
        ...[...picked].map(([id, title]) => pickBox(id, title, "(picked)")),
        ...found.map((item) => pickBox(item.id, item.title, `${item.source} · ${formatDate(item.published_at)}`)));
      if (!picks.children.length) picks.append(el("p", { class: "hint" }, "No articles match."));
    } catch (error) {
      picks.replaceChildren(errorNotice(error));
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(findArticles, SEARCH_DELAY_MS);
  });

  // Mirrors the server's rules so the common mistakes get a message before a round trip.
  function request() {
    const body = { kind: kind.value };
    const max = Number.parseInt(maxSentences.value, 10);
    if (Number.isFinite(max) && max > 0) body.max_sentences = max;
    if (body.kind === "brief") {
      if (picked.size !== 1) return [null, "A brief summarises exactly one article: pick one (and no topic)."];
      body.article_ids = [...picked.keys()];
      return [body, null];
    }
    if (picked.size) body.article_ids = [...picked.keys()];
    if (topic.value.trim()) body.topic = topic.value.trim();
    Object.assign(body, currentFilters());
    if (!body.topic && !body.article_ids && !body.filters) {
      return [null, "Give a topic, pick articles, or set outlet or date filters."];
    }
    return [body, null];
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [body, problem] = request();
    if (problem) {
      output.replaceChildren(el("p", { class: "notice error", role: "alert" }, problem));
      return;
    }
    button.disabled = true;
    output.setAttribute("aria-busy", "true");
    output.replaceChildren(el("p", { class: "hint working" }, "Summarising…"));
    try {
      const summary = await postJson("/v1/summaries", body);
      renderAnswer(output, summary, onCite, { timeline: summary.kind === "timeline" });
      const n = (summary.articles || []).length;
      output.prepend(el("p", { class: "hint" }, `${summary.kind} of ${n} article${n === 1 ? "" : "s"}`));
      output.dataset.status = summary.status;
    } catch (error) {
      output.replaceChildren(errorNotice(error));
      output.dataset.status = "error";
    } finally {
      button.disabled = false;
      output.removeAttribute("aria-busy");
    }
  });

  return { activate: () => { if (!picks.children.length) findArticles(); } };
}

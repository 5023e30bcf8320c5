// The articles view: search and page through ingested articles; an article with its chunk boundaries.

import { getJson } from "./api.js";
import { filterParams } from "./filters.js";
import { fetchArticle, safeUrl } from "./passage.js";
import { el, errorNotice, formatDate } from "./render.js";

const PAGE_SIZE = 10;

// The body split at chunk starts (each gets a numbered marker) with an optional highlighted [start, end) span.
function bodyWithChunks(article, span) {
  const body = article.body;
  const starts = new Map(article.chunks.map((c) => [c.start, c.index]));
  const cuts = new Set([0, body.length, ...starts.keys()]);
  if (span) cuts.add(span.start).add(span.end);
  const points = [...cuts].filter((p) => p >= 0 && p <= body.length).sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i < points.length - 1; i += 1) {
    const [from, to] = [points[i], points[i + 1]];
    if (starts.has(from)) {
      const n = starts.get(from) + 1;
      nodes.push(el("span", { class: "chunk-mark", title: `Chunk ${n} starts here` }, `chunk ${n}`));
    }
    const piece = body.slice(from, to);
    const inSpan = span && from >= span.start && to <= span.end;
    nodes.push(inSpan ? el("mark", { class: "cited" }, piece) : piece);
  }
  return el("div", { class: "article-body" }, ...nodes);
}

function chunkTable(article) {
  const rows = article.chunks.map((chunk, i) => {
    const previous = article.chunks[i - 1];
    const overlap = previous ? Math.max(0, previous.end - chunk.start) : 0;
    return el("tr", {},
      el("td", {}, String(chunk.index + 1)),
      el("td", {}, `${chunk.start}–${chunk.end}`),
      el("td", {}, String(chunk.end - chunk.start)),
      el("td", {}, String(overlap)));
  });
  return el("details", { class: "chunks" },
    el("summary", {}, `${article.chunks.length} chunk${article.chunks.length === 1 ? "" : "s"}`),
    el("table", {},
      el("caption", { class: "visually-hidden" }, "Chunks of this article: character offsets and overlap"),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Chunk"), el("th", { scope: "col" }, "Characters"),
        el("th", { scope: "col" }, "Length"), el("th", { scope: "col" }, "Overlap with previous"))),
      el("tbody", {}, ...rows)));
}

export function setUpArticles() {
  const form = document.getElementById("article-search");
  const text = document.getElementById("article-text");
  const list = document.getElementById("article-list");
  const count = document.getElementById("article-count");
  const prev = document.getElementById("article-prev");
  const next = document.getElementById("article-next");
  const detail = document.getElementById("article-detail");
  let offset = 0;
  let total = 0;

  async function load() {
    const params = [...filterParams(), ["limit", PAGE_SIZE], ["offset", offset]];
    if (text.value.trim()) params.push(["text", text.value.trim()]);
    count.textContent = "Loading…";
    try {
      const page = await getJson("/v1/articles", params);
      total = page.total;
      list.replaceChildren(...page.items.map((item) => el("li", {},
        el("button", { type: "button", class: "link-button", onclick: () => open(item.id) }, item.title),
        el("span", { class: "hint" }, ` ${item.source || "unknown outlet"} · ${formatDate(item.published_at)}`))));
      count.textContent = total
        ? `Articles ${offset + 1}–${offset + page.items.length} of ${total}`
        : "No articles match.";
    } catch (error) {
      list.replaceChildren();
      count.textContent = "";
      list.append(el("li", {}, errorNotice(error)));
    }
    prev.disabled = offset === 0;
    next.disabled = offset + PAGE_SIZE >= total;
  }

  async function open(id, span) {
    detail.hidden = false;
    detail.replaceChildren(el("p", { class: "hint" }, "Loading the article…"));
    try {
      const article = await fetchArticle(id);
      const href = safeUrl(article.url);
      const byline = [article.source || "unknown outlet", formatDate(article.published_at), article.author]
        .filter(Boolean).join(" · ");
      detail.replaceChildren(
        el("h3", {}, article.title),
        el("p", { class: "hint" }, byline),
        href ? el("p", {}, el("a", { href, target: "_blank", rel: "noopener noreferrer" }, "Original article")) : null,
        chunkTable(article),
        bodyWithChunks(article, span));
      detail.focus();
      const mark = detail.querySelector("mark");
      (mark || detail).scrollIntoView({ block: mark ? "center" : "start" });
    } catch (error) {
      detail.replaceChildren(errorNotice(error));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    load();
  });
  prev.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    load();
  });
  next.addEventListener("click", () => {
    offset += PAGE_SIZE;
    load();
  });

  return { load, open, reset: () => { offset = 0; } };
}

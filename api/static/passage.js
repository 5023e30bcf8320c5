// The source dialog: a citation's passage with the cited span highlighted, its article's title, outlet, date and
// a link to the original. A native <dialog> traps focus and closes on Escape; focus returns to the citation.

import { getJson } from "./api.js";
import { errorNotice, formatDate, highlighted } from "./render.js";

const CONTEXT_CHARS = 600; // shown either side of a quote whose chunk is gone (the article changed since)
const articleCache = new Map();

export function fetchArticle(id) {
  if (!articleCache.has(id)) {
    const request = getJson(`/v1/articles/${encodeURIComponent(id)}`);
    request.catch(() => articleCache.delete(id));
    articleCache.set(id, request);
  }
  return articleCache.get(id);
}

export function forgetArticles() {
  articleCache.clear();
}

// Only web links are followed: article URLs come from ingested data, and a javascript: URL must not be clickable.
export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function setUpPassageDialog({ onOpenArticle }) {
  const dialog = document.getElementById("passage");
  const title = document.getElementById("passage-title");
  const meta = document.getElementById("passage-meta");
  const text = document.getElementById("passage-text");
  const link = document.getElementById("passage-link");
  const openWhole = document.getElementById("passage-open");
  let returnFocus = null;
  let current = null;

  document.getElementById("passage-close").addEventListener("click", () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    returnFocus = null;
  });
  openWhole.addEventListener("click", () => {
    const citation = current;
    dialog.close();
    if (citation) onOpenArticle(citation.article_id, citation);
  });

  async function show(citation, opener) {
    current = citation;
    returnFocus = opener || document.activeElement;
    title.textContent = citation.title || "Source";
    meta.textContent = `[${citation.n}] ${citation.source || "unknown outlet"} · ${formatDate(citation.published_at)}`;
    text.replaceChildren("Loading the passage…");
    const href = safeUrl(citation.url);
    link.hidden = !href;
    if (href) link.href = href;
    if (!dialog.open) dialog.showModal();
    try {
      const article = await fetchArticle(citation.article_id);
      if (current !== citation) return; // another citation was opened meanwhile
      const chunk = (article.chunks || []).find((c) => c.id === citation.chunk_id);
      let mark;
      if (chunk && chunk.start <= citation.start && citation.end <= chunk.end) {
        mark = highlighted(text, chunk.text, citation.start - chunk.start, citation.end - chunk.start);
      } else {
        const from = Math.max(0, citation.start - CONTEXT_CHARS);
        const to = Math.min(article.body.length, citation.end + CONTEXT_CHARS);
        mark = highlighted(text, article.body.slice(from, to), citation.start - from, citation.end - from);
      }
      const author = article.author ? ` · ${article.author}` : "";
      meta.textContent = `[${citation.n}] ${article.source || "unknown outlet"} · ${formatDate(article.published_at)}${author}`;
      mark.scrollIntoView({ block: "center" });
    } catch (error) {
      if (current === citation) text.replaceChildren(errorNotice(error));
    }
  }

  return { show };
}

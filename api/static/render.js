// Building DOM from API data. Article text is untrusted: everything goes in through textContent, never innerHTML.

export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function formatDate(iso) {
  if (!iso) return "undated";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

export function errorNotice(error) {
  const text = error && error.message ? error.message : String(error);
  return el("p", { class: "notice error", role: "alert" }, text);
}

function citationLabel(citation) {
  return `Source ${citation.n}: ${citation.title} (${citation.source || "unknown outlet"}, ${formatDate(citation.published_at)})`;
}

function citeButton(citation, onCite) {
  return el("button", {
    type: "button",
    class: "cite",
    "data-n": citation.n,
    "aria-label": citationLabel(citation),
    title: citationLabel(citation),
    onclick: (event) => onCite(citation, event.currentTarget),
  }, `[${citation.n}]`);
}

function sentenceNode(sentence, citationsByN, onCite) {
  const supported = sentence.supported !== false;
  const parts = [];
  if (sentence.date) parts.push(el("time", { class: "entry-date", datetime: sentence.date }, formatDate(sentence.date)), " ");
  parts.push(el("span", { class: supported ? "claim" : "claim unsupported" }, sentence.text));
  for (const n of sentence.citations || []) {
    const citation = citationsByN.get(n);
    parts.push(" ", citation ? citeButton(citation, onCite) : el("span", { class: "cite-missing" }, `[${n}]`));
  }
  if (!supported) {
    const support = typeof sentence.support === "number" ? ` (support ${sentence.support.toFixed(2)})` : "";
    parts.push(" ", el("span", { class: "flag", title: `Not verified against its source${support}` }, "unverified"));
  }
  return el("span", { class: "sentence", "data-supported": String(supported) }, ...parts);
}

// Render an Answer or a Summary (same sentence and citation shapes) into `container`.
// `reply` may be partial while streaming: {sentences, citations, status?, answer?/text?, draft?}.
export function renderAnswer(container, reply, onCite, { pending = false, timeline = false } = {}) {
  container.replaceChildren();
  const citationsByN = new Map((reply.citations || []).map((c) => [c.n, c]));
  if (reply.status === "insufficient_evidence") {
    container.append(el("div", { class: "notice insufficient", role: "note" },
      el("strong", {}, "Not enough evidence. "),
      reply.answer || reply.text || "The sources do not hold an answer to this."));
  }
  // The direct answer first: a phrase copied from a cited passage, or Yes/No with the deciding sentence cited.
  const short = reply.status === "answered" ? reply.short_answer : null;
  if (short) {
    const cited = citationsByN.get(short.citation);
    container.append(el("p", { class: "short-answer" },
      el("strong", {}, short.text), ...(cited ? [" ", citeButton(cited, onCite)] : [])));
  }
  const sentences = reply.sentences || [];
  if (sentences.length) {
    const body = timeline
      ? el("ol", { class: "timeline" }, ...sentences.map((s) => el("li", {}, sentenceNode(s, citationsByN, onCite))))
      : el("p", { class: "answer-text" }, ...sentences.flatMap((s) => [sentenceNode(s, citationsByN, onCite), " "]));
    container.append(body);
  }
  if (pending && reply.draft) container.append(el("p", { class: "draft", "aria-hidden": "true" }, reply.draft));
  if (pending) container.append(el("p", { class: "hint working" }, "Checking sources…"));
  const cited = [...citationsByN.values()].sort((a, b) => a.n - b.n);
  if (cited.length && !pending) {
    container.append(el("details", { class: "sources" },
      el("summary", {}, `Sources (${cited.length})`),
      el("ol", {}, ...cited.map((c) => el("li", {},
        citeButton(c, onCite), " ",
        el("span", {}, `${c.title} — ${c.source || "unknown outlet"}, ${formatDate(c.published_at)}`))))));
  }
}

// Mark a span of `text` (offsets into it) inside `container`: before, <mark>, after.
export function highlighted(container, text, start, end) {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  container.replaceChildren(text.slice(0, from), el("mark", { class: "cited" }, text.slice(from, to)), text.slice(to));
  return container.querySelector("mark");
}

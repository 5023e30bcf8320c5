// newsdesk web page: wires the views (ask, summaries, articles), the filters, the source dialog and the API key.

import { apiKey, capabilities, setApiKey } from "./api.js";
import { setUpArticles } from "./articles.js";
import { setUpChat } from "./chat.js";
import { setUpFeeds } from "./feeds.js";
import { loadOutlets, setUpFilters } from "./filters.js";
import { forgetArticles, setUpPassageDialog } from "./passage.js";
import { setUpSummaries } from "./summaries.js";

const VIEWS = ["chat", "summaries", "articles"];

function setUpKeyPanel(onSaved) {
  const panel = document.getElementById("key-panel");
  const input = document.getElementById("api-key");
  const status = document.getElementById("key-status");
  const describe = () => {
    status.textContent = apiKey() ? "A key is set for this tab." : "No key set.";
  };
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    input.value = "";
    describe();
    onSaved();
  });
  document.getElementById("key-clear").addEventListener("click", () => {
    setApiKey("");
    describe();
  });
  document.addEventListener("newsdesk:unauthorized", () => {
    panel.open = true;
    status.textContent = apiKey()
      ? "The server did not accept this key: enter another."
      : "This server needs an API key for that: enter it here.";
  });
  describe();
}

async function main() {
  const caps = await capabilities();
  const articles = setUpArticles();
  const feeds = setUpFeeds();
  const passage = setUpPassageDialog({
    onOpenArticle: (id, citation) => {
      show("articles");
      articles.open(id, { start: citation.start, end: citation.end });
    },
  });
  const onCite = (citation, opener) => passage.show(citation, opener);
  setUpChat({ capabilities: caps, onCite });
  const summaries = setUpSummaries({ capabilities: caps, onCite });

  let articlesLoaded = false;
  function show(view, { focus = false } = {}) {
    for (const name of VIEWS) {
      document.getElementById(`view-${name}`).hidden = name !== view;
    }
    for (const tab of document.querySelectorAll(".tab")) {
      if (tab.dataset.view === view) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    if (view === "articles" && !articlesLoaded) {
      articlesLoaded = true;
      articles.load();
    }
    if (view === "articles") feeds.load();
    if (view === "summaries") summaries.activate();
    if (focus) document.getElementById(`${view}-heading`).focus();
    if (window.location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
  }

  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => show(tab.dataset.view, { focus: true }));
  }
  setUpFilters(() => {
    if (articlesLoaded) {
      articles.reset();
      articles.load();
    }
  });
  setUpKeyPanel(() => {
    forgetArticles();
    loadOutlets();
    if (articlesLoaded) articles.load();
  });
  await loadOutlets();
  const start = window.location.hash.slice(1);
  show(VIEWS.includes(start) ? start : "chat");
  document.body.dataset.ready = "true";
}

main();

// The feeds panel in the articles view: each subscribed feed with its last and next refresh, last error and counts.
// The scheduler refreshes feeds on its own; the panel only reads GET /v1/feeds.

import { getJson } from "./api.js";
import { el, errorNotice } from "./render.js";

function when(iso, fallback) {
  if (!iso) return fallback;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZone: "UTC", timeZoneName: "short",
  });
}

function every(seconds) {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Math.round(seconds * 10) / 10} s`;
}

function feedItem(feed) {
  const failing = Boolean(feed.last_error);
  const counts = `${feed.items} items seen · ${feed.articles_added} articles added · ` +
    `${feed.articles_updated} updated · every ${every(feed.interval_s)}`;
  return el("li", { class: failing ? "feed failing" : "feed", "data-feed-id": feed.id },
    el("strong", { class: "feed-title" }, feed.title || feed.url),
    feed.title ? el("span", { class: "hint feed-url" }, ` ${feed.url}`) : null,
    el("dl", { class: "feed-facts" },
      el("dt", {}, "Last refresh"),
      el("dd", { class: "feed-last" }, when(feed.last_checked, "never") + (feed.last_status ? ` (${feed.last_status})` : "")),
      el("dt", {}, "Next refresh"),
      el("dd", { class: "feed-next" }, feed.refreshing ? "refreshing now" : when(feed.next_refresh, "now")),
      el("dt", {}, "Counts"),
      el("dd", { class: "feed-counts" }, counts)),
    failing
      ? el("p", { class: "notice error feed-error", role: "note" },
        `Last error: ${feed.last_error} (${feed.failures} failed refresh${feed.failures === 1 ? "" : "es"} in a row; ` +
        "waiting longer after each)")
      : null);
}

export function setUpFeeds() {
  const list = document.getElementById("feed-list");
  const count = document.getElementById("feed-count");
  document.getElementById("feed-reload").addEventListener("click", () => load());

  async function load() {
    count.textContent = "Loading feeds…";
    try {
      const feeds = (await getJson("/v1/feeds")).items;
      list.replaceChildren(...feeds.map(feedItem));
      count.textContent = feeds.length
        ? `${feeds.length} feed${feeds.length === 1 ? "" : "s"}, refreshed on their schedule`
        : "No feeds yet (newsdesk feeds add URL).";
    } catch (error) {
      list.replaceChildren(el("li", {}, errorNotice(error)));
      count.textContent = "";
    }
  }

  return { load };
}

// The chat view: questions and streamed, cited answers; the conversation id is kept across follow-ups.
// With POST /v1/chat on the server, answers stream (SSE); without it, each question goes to POST /v1/ask alone.

import { ApiError, deleteResource, postJson, postStream } from "./api.js";
import { currentFilters } from "./filters.js";
import { el, errorNotice, renderAnswer } from "./render.js";

export function setUpChat({ capabilities, onCite }) {
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const button = document.getElementById("ask-button");
  const transcript = document.getElementById("transcript");
  const mode = document.getElementById("chat-mode");
  let conversationId = null;
  let busy = false;

  mode.textContent = capabilities.chat
    ? "Answers stream in as they are checked; follow-up questions keep the conversation's context."
    : "Each question is answered on its own (this server has no chat endpoint).";

  function addTurn(message) {
    const answer = el("div", { class: "answer", "aria-busy": "true" }, el("p", { class: "hint working" }, "Searching…"));
    const turn = el("li", { class: "turn", "data-status": "pending" },
      el("p", { class: "question" }, el("span", { class: "who" }, "You: "), message), answer);
    transcript.append(turn);
    turn.scrollIntoView({ block: "end" });
    return { turn, answer };
  }

  async function streamChat(message, view) {
    const reply = { sentences: [], citations: [], draft: "" };
    let events = 0;
    let finished = false;
    const body = { message, ...currentFilters() };
    if (conversationId) body.conversation_id = conversationId;
    await postStream("/v1/chat", body, (name, data) => {
      events += 1;
      view.turn.dataset.events = String(events);
      if (name === "meta" && data.conversation_id) conversationId = data.conversation_id;
      else if (name === "delta") reply.draft += data.text || "";
      else if (name === "citation") reply.citations.push(data);
      else if (name === "sentence") reply.sentences[data.index ?? reply.sentences.length] = data;
      else if (name === "error") throw new ApiError(0, data.code, data.message);
      else if (name === "final") {
        finished = true;
        if (data.conversation_id) conversationId = data.conversation_id;
        view.turn.dataset.turn = String(data.turn || "");
        return finish(view, data.answer || data);
      }
      renderAnswer(view.answer, { ...reply, sentences: reply.sentences.filter(Boolean) }, onCite, { pending: true });
    });
    if (!finished) throw new ApiError(0, "stream_ended", "The answer stream ended before the answer was complete.");
  }

  function finish(view, answer) {
    renderAnswer(view.answer, answer, onCite);
    view.answer.removeAttribute("aria-busy");
    view.turn.dataset.status = answer.status;
  }

  async function send(message) {
    const view = addTurn(message);
    try {
      if (capabilities.chat) {
        view.turn.dataset.transport = "stream";
        try {
          await streamChat(message, view);
        } catch (error) {
          // The server forgot the conversation (expired or restarted): start a new one with this question.
          if (!(error instanceof ApiError && error.status === 404 && conversationId)) throw error;
          conversationId = null;
          view.answer.before(el("p", { class: "hint" }, "That conversation had expired; this starts a new one."));
          await streamChat(message, view);
        }
      } else {
        view.turn.dataset.transport = "ask";
        finish(view, await postJson("/v1/ask", { question: message, ...currentFilters() }));
      }
    } catch (error) {
      view.answer.replaceChildren(errorNotice(error));
      view.answer.removeAttribute("aria-busy");
      view.turn.dataset.status = "error";
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || busy) return;
    busy = true;
    button.disabled = true;
    input.value = "";
    try {
      await send(message);
    } finally {
      busy = false;
      button.disabled = false;
      input.focus();
    }
  });

  document.getElementById("new-conversation").addEventListener("click", () => {
    if (conversationId) deleteResource(`/v1/conversations/${encodeURIComponent(conversationId)}`).catch(() => {});
    conversationId = null;
    transcript.replaceChildren();
    input.value = "";
    input.focus();
  });

  return { conversation: () => conversationId };
}

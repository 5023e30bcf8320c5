// Talking to the newsdesk API: JSON calls with the optional API key, the error shape, and SSE over fetch.

const KEY_STORAGE = "newsdesk.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

function headers(extra) {
  const result = { Accept: "application/json", ...extra };
  const key = apiKey();
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

// Every API error has the shape {"error": {"code", "message"}}; anything else (a proxy page) gets a generic text.
async function failure(response) {
  let code = "http_" + response.status;
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code;
      message = body.error.message;
    }
  } catch {
    // not JSON: keep the generic message
  }
  if (response.status === 401) document.dispatchEvent(new CustomEvent("newsdesk:unauthorized"));
  return new ApiError(response.status, code, message);
}

export async function getJson(path, params) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of params || []) url.searchParams.append(name, value);
  const response = await fetch(url, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function deleteResource(path) {
  const response = await fetch(path, { method: "DELETE", headers: headers() });
  if (!response.ok && response.status !== 404) throw await failure(response);
}

// POST with "stream": true and call onEvent(name, data) for each server-sent event. EventSource cannot POST, so
// the body is read with a stream reader and split on blank lines.
export async function postStream(path, body, onEvent, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("text/event-stream")) {
    // A server that answers in one piece: hand it over as the final event.
    onEvent("final", await response.json());
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
  if (buffer.trim()) dispatch(buffer, onEvent);
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return;
  const text = data.join("\n");
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  onEvent(name, parsed);
}

// Which optional routes this server has (chat and summaries arrive separately): read from the OpenAPI schema.
export async function capabilities() {
  try {
    const schema = await getJson("/openapi.json");
    const paths = schema.paths || {};
    return { chat: "/v1/chat" in paths, summaries: "/v1/summaries" in paths };
  } catch {
    return { chat: false, summaries: false };
  }
}

// Talking to the JSON API: one fetch helper that turns every failure into a readable message.

export const OFFLINE_MESSAGE = "Backend server unavailable. Please check your connection and try again.";

/** An API failure with the server's message and code. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status (0 when the server was not reached)
   * @param {string | undefined} code
   */
  constructor(message, status, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The message of an error body: `{message}` (the service) or `{error: {message}}` (the
 * original's development shape) or a plain string.
 * @param {unknown} body
 * @param {number} status
 * @returns {string}
 */
export function errorMessage(body, status) {
  if (body && typeof body === "object") {
    const record = /** @type {Record<string, unknown>} */ (body);
    if (typeof record.message === "string" && record.message) return record.message;
    const inner = record.error;
    if (inner && typeof inner === "object") {
      const message = /** @type {Record<string, unknown>} */ (inner).message;
      if (typeof message === "string" && message) return message;
    }
    if (typeof inner === "string" && inner) return inner;
  }
  if (typeof body === "string" && body.trim()) return body.trim();
  return `Request failed (HTTP ${status})`;
}

/**
 * The signed-in session's CSRF token (from the page's `<meta name="csrf-token">`), sent with
 * every request that changes something; empty before a profile is picked.
 * @returns {string}
 */
export function csrfToken() {
  if (typeof document === "undefined") return "";
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

/**
 * The headers of an API request.
 * @param {string} method
 * @param {boolean} json the body is JSON
 * @returns {Record<string, string>}
 */
export function requestHeaders(method, json) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  const token = csrfToken();
  if (token && method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = token;
  return headers;
}

/**
 * Sends a request and returns the envelope's `data`.
 * @param {string} url
 * @param {{method?: string, body?: unknown, signal?: AbortSignal, keepalive?: boolean}} [options]
 * @returns {Promise<any>}
 */
export async function api(url, options = {}) {
  const method = options.method || "GET";
  /** @type {RequestInit} */
  const init = { method, headers: requestHeaders(method, options.body !== undefined), signal: options.signal };
  if (options.keepalive) init.keepalive = true;
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(OFFLINE_MESSAGE, 0, "NETWORK");
  }
  const text = await response.text();
  /** @type {unknown} */
  let body = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text for the message.
  }
  if (!response.ok) {
    const code = body && typeof body === "object" ? /** @type {any} */ (body).code : undefined;
    throw new ApiError(errorMessage(body, response.status), response.status, typeof code === "string" ? code : undefined);
  }
  if (body && typeof body === "object" && "data" in body) return /** @type {any} */ (body).data;
  return body;
}

/**
 * The same encoding as the server's file URLs (JavaScript's encodeURIComponent).
 * @param {string} name
 */
export function encodeName(name) {
  return encodeURIComponent(name);
}

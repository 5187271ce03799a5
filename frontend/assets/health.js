// The connection banner: polls the health report and shows a banner while the server is
// unreachable or critical. "healthy" and "warning" are fine, as in the original.

export const HEALTH_URL = "/api/health";
const HEALTHY_EVERY_MS = 30_000;
const UNHEALTHY_EVERY_MS = 5_000;

/**
 * Whether a health answer means the server can be used.
 * @param {number} status HTTP status, 0 when unreachable
 * @param {unknown} body
 * @returns {boolean}
 */
export function isHealthy(status, body) {
  if (status !== 200 || !body || typeof body !== "object") return false;
  const value = /** @type {Record<string, unknown>} */ (body).status;
  return value === "healthy" || value === "warning";
}

/**
 * The banner's detail text.
 * @param {number} status
 * @param {Date} checkedAt
 * @param {number} failures consecutive failed checks
 * @returns {string}
 */
export function bannerText(status, checkedAt, failures) {
  const what = status === 0 ? "SOFATHEK cannot be reached." : "SOFATHEK reports a problem (storage or database).";
  const time = checkedAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return `${what} Last checked ${time}${failures > 1 ? ` (${failures} retries)` : ""}.`;
}

/**
 * Starts polling; returns `check` so other code (a failed fetch, an SSE error) can ask early.
 * @returns {() => Promise<boolean>}
 */
export function installHealthBanner() {
  const banner = document.getElementById("connection-banner");
  const detail = document.getElementById("connection-detail");
  const retry = document.getElementById("connection-retry");
  let failures = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Promise<boolean> | null} */
  let running = null;

  async function probe() {
    let status = 0;
    /** @type {unknown} */
    let body = null;
    try {
      const response = await fetch(HEALTH_URL, { headers: { Accept: "application/json" }, cache: "no-store" });
      status = response.status;
      body = await response.json().catch(() => null);
    } catch {
      status = 0;
    }
    const ok = isHealthy(status, body);
    failures = ok ? 0 : failures + 1;
    if (banner && detail) {
      banner.hidden = ok;
      if (!ok) detail.textContent = bannerText(status, new Date(), failures);
    }
    clearTimeout(timer);
    timer = setTimeout(check, ok ? HEALTHY_EVERY_MS : UNHEALTHY_EVERY_MS);
    return ok;
  }

  function check() {
    if (!running) running = probe().finally(() => (running = null));
    return running;
  }

  retry?.addEventListener("click", () => void check());
  window.addEventListener("online", () => void check());
  void check();
  return check;
}

// Development only (the server includes this script and answers /__livereload only when
// SOFATHEK_ENV=development): reload the page when a template, style or script changes, or when
// the server comes back after a restart (a new boot id).

/** @type {string | null} */
let boot = null;

function connect() {
  const source = new EventSource("/__livereload");
  source.addEventListener("hello", (event) => {
    const id = /** @type {MessageEvent} */ (event).data;
    if (boot !== null && boot !== id) location.reload();
    boot = id;
  });
  source.addEventListener("reload", () => location.reload());
  source.addEventListener("error", () => {
    // EventSource retries by itself unless the server answered with an error: then start over.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
  });
}

connect();

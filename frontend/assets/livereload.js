// Development only (the server includes this script and answers /__livereload only when
// SOFATHEK_ENV=development): reload the page when a template, style or script changes, or when
// the server comes back after a restart.

const source = new EventSource("/__livereload");
/** @type {string | null} */
let boot = null;

source.addEventListener("hello", (event) => {
  const id = /** @type {MessageEvent} */ (event).data;
  if (boot !== null && boot !== id) location.reload();
  boot = id;
});
source.addEventListener("reload", () => location.reload());

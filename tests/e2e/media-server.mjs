// A local HTTP server for the add-URL tests: serves files from a folder, `/slow/<file>` at a
// trickle (so a download can be cancelled mid-way) and 404 for anything else.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

/**
 * Starts the server on 127.0.0.1 and a free port.
 * @param {string} dir
 * @returns {Promise<{url: string, close: () => Promise<void>, requests: string[]}>}
 */
export async function startMediaServer(dir) {
  /** @type {string[]} */
  const requests = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url || "/", "http://x").pathname);
    requests.push(`${request.method} ${path}`);
    const slow = path.startsWith("/slow/");
    const name = path.replace(/^\/(slow\/)?/, "");
    if (!/^[\w.-]+$/.test(name)) {
      response.writeHead(404).end("not found");
      return;
    }
    let size;
    try {
      size = statSync(join(dir, name)).size;
    } catch {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const type = name.endsWith(".mkv") ? "video/x-matroska" : "video/mp4";
    response.writeHead(200, { "Content-Type": type, "Content-Length": size, "Accept-Ranges": "none" });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    const stream = createReadStream(join(dir, name), { highWaterMark: 16 * 1024 });
    if (!slow) {
      stream.pipe(response);
      return;
    }
    // 16 KiB every 250 ms: about 64 KiB/s.
    stream.on("data", (chunk) => {
      stream.pause();
      response.write(chunk);
      setTimeout(() => stream.resume(), 250);
    });
    stream.on("end", () => response.end());
    response.on("close", () => stream.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

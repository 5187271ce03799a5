// A local HTTP server for the add-URL and sources tests: serves files from a folder,
// `/slow/<file>` at a trickle (so a download can be cancelled mid-way), `/feed.xml` (an RSS feed
// of two episodes whose enclosures are `clip.mp4`, as a channel's feed would list them) and 404
// for anything else.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

/** The episodes of `/feed.xml`, newest first. */
export const FEED_EPISODES = [
  { guid: "feed-ep2", title: "Feed Episode Two", date: "Tue, 03 Nov 2026 10:00:00 GMT" },
  { guid: "feed-ep1", title: "Feed Episode One", date: "Mon, 02 Nov 2026 10:00:00 GMT" },
];

/**
 * An RSS 2.0 feed whose items yt-dlp's generic extractor lists (enclosure, guid, pubDate,
 * itunes:duration, itunes:image).
 * @param {string} base the server's own URL
 */
function feed(base) {
  const items = FEED_EPISODES.map(
    (episode, i) =>
      `<item><title>${episode.title}</title><guid>${episode.guid}</guid><pubDate>${episode.date}</pubDate>` +
      `<itunes:duration>00:06</itunes:duration><itunes:image href="${base}/feed-thumb.jpg"/>` +
      `<enclosure url="${base}/clip.mp4?episode=${i}" type="video/mp4" length="100000"/></item>`,
  ).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>E2E Science Club</title><link>${base}/</link><description>Episodes for the sources test</description>
${items}
</channel></rss>
`;
}

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
    if (path === "/feed.xml") {
      const base = `http://${request.headers.host}`;
      response.writeHead(200, { "Content-Type": "application/rss+xml" }).end(feed(base));
      return;
    }
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
    const type = name.endsWith(".mkv") ? "video/x-matroska" : name.endsWith(".jpg") ? "image/jpeg" : "video/mp4";
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

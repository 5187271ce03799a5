// Video cards built in the browser from the API's video JSON, with the same markup as the
// server's `card` macro (templates/macros.html).

import { encodeName } from "./api.js";
import { formatDuration } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

/**
 * @typedef {{id: string, file: {name: string}, metadata: {title?: string, duration?: number, thumbnail?: string, channel?: string}}} ApiVideo
 */

/**
 * What a card shows, from the API's shape.
 * @param {ApiVideo} video
 * @returns {{id: string, title: string, href: string, thumbnail: string | null, duration: string}}
 */
export function cardModel(video) {
  const metadata = video.metadata || {};
  return {
    id: video.id,
    title: metadata.title || video.id,
    href: `/watch/${encodeName(video.id)}`,
    thumbnail: metadata.thumbnail ? `/api/thumbnails/${encodeName(metadata.thumbnail)}` : null,
    duration: formatDuration(metadata.duration),
  };
}

/**
 * A `<li class="card">` for a video.
 * @param {ApiVideo} video
 * @returns {HTMLLIElement}
 */
export function renderCard(video) {
  const model = cardModel(video);
  const item = document.createElement("li");
  item.className = "card";
  const link = document.createElement("a");
  link.className = "card-link";
  link.href = model.href;
  link.dataset.nav = "";
  link.dataset.videoId = model.id;
  const thumb = document.createElement("span");
  thumb.className = "thumb";
  const icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("class", "thumb-icon");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M8 5v14l11-7z");
  icon.append(path);
  thumb.append(icon);
  if (model.thumbnail) {
    const image = document.createElement("img");
    image.src = model.thumbnail;
    image.alt = "";
    image.loading = "lazy";
    image.decoding = "async";
    image.width = 480;
    image.height = 270;
    thumb.append(image);
  }
  if (model.duration) {
    const badge = document.createElement("span");
    badge.className = "duration";
    badge.textContent = model.duration;
    thumb.append(badge);
  }
  const title = document.createElement("span");
  title.className = "card-title";
  title.textContent = model.title;
  link.append(thumb, title);
  item.append(link);
  return item;
}

/** Hides thumbnails that fail to load, so the placeholder shows instead of a broken image. */
export function installThumbnailFallback() {
  document.addEventListener(
    "error",
    (event) => {
      const target = event.target;
      if (target instanceof HTMLImageElement && target.closest(".thumb")) target.hidden = true;
    },
    true,
  );
}

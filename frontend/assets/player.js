// The watch page: resume where the family left off, clear messages when a file cannot play,
// "up next" when the video ends, and Escape back to the library.

import { api } from "./api.js";
import { formatDuration } from "./format.js";
import {
  isFinished,
  localProgressStore,
  mediaErrorMessage,
  NO_PICTURE_MESSAGE,
  renderedPosition,
  resumePoint,
  serverProgressStore,
} from "./resume.js";

const SAVE_EVERY_MS = 4000;
const UP_NEXT_SECONDS = 10;

/** @param {string} id */
function byId(id) {
  return document.getElementById(id);
}

/**
 * The signed-in profile's positions on the server (mirrored per profile in this browser), or
 * the browser's own positions when no profile is picked.
 * @param {HTMLElement} article
 * @returns {import("./resume.js").ProgressStore | null}
 */
function progressStore(article) {
  const profile = article.dataset.progressProfile;
  /** @type {import("./resume.js").ProgressStore | null} */
  let local = null;
  try {
    local = localProgressStore(window.localStorage, Date.now, profile ? `sofathek-progress-${profile}` : undefined);
  } catch {
    local = null;
  }
  if (!profile) return local;
  const fromServer = renderedPosition(article.dataset.resume, article.dataset.resumeAt);
  const memory = local || memoryStore();
  return serverProgressStore(fromServer, memory, (id, report) => {
    void api(`/api/progress/${encodeURIComponent(id)}`, { method: "PUT", body: report, keepalive: true }).catch(() => {});
  });
}

/** A store that forgets everything when the page goes (storage disabled). */
function memoryStore() {
  /** @type {Map<string, import("./resume.js").SavedPosition>} */
  const saved = new Map();
  return {
    load: (/** @type {string} */ id) => saved.get(id) || null,
    save: (/** @type {string} */ id, /** @type {number} */ t, /** @type {number} */ d) => void saved.set(id, { t, d, at: Date.now() }),
    clear: (/** @type {string} */ id) => void saved.delete(id),
    finish: (/** @type {string} */ id) => void saved.delete(id),
  };
}

export function initPlayer() {
  const article = byId("watch");
  const video = /** @type {HTMLVideoElement | null} */ (byId("player"));
  if (!article || !video) return;
  const id = article.dataset.videoId || "";
  const store = progressStore(article);
  const errorBox = byId("player-error");
  const errorText = byId("player-error-text");
  const resumeNote = byId("resume-note");
  const resumeText = byId("resume-text");
  let lastSave = 0;
  let restored = false;

  const save = () => {
    if (!store || !restored || video.seeking) return;
    if (isFinished(video.currentTime, video.duration)) store.finish(id, video.duration);
    else if (video.currentTime > 0) store.save(id, video.currentTime, video.duration);
    lastSave = Date.now();
  };

  const restore = () => {
    if (restored) return;
    restored = true;
    const at = resumePoint(store ? store.load(id) : null, video.duration);
    if (at === null) return;
    video.currentTime = at;
    if (resumeNote && resumeText) {
      resumeText.textContent = `Resumed at ${formatDuration(at)}.`;
      resumeNote.hidden = false;
    }
  };
  if (video.readyState >= 1) restore();
  video.addEventListener("loadedmetadata", restore);

  byId("resume-restart")?.addEventListener("click", () => {
    video.currentTime = 0;
    store?.clear(id);
    if (resumeNote) resumeNote.hidden = true;
    void video.play().catch(() => {});
  });

  video.addEventListener("timeupdate", () => {
    if (Date.now() - lastSave >= SAVE_EVERY_MS) save();
  });
  video.addEventListener("pause", save);
  video.addEventListener("seeked", save);
  window.addEventListener("pagehide", save);

  const showMessage = (/** @type {string} */ text) => {
    if (errorBox && errorText) {
      errorText.textContent = text;
      errorBox.hidden = false;
    }
  };
  const showError = () => showMessage(mediaErrorMessage(video.error ? video.error.code : undefined));
  video.addEventListener("error", showError);
  if (video.error) showError();
  // A file the browser can open but whose picture it cannot decode reports no error: it
  // plays sound over a black box with a 0×0 picture. Say so instead.
  const checkPicture = () => {
    if (video.readyState >= 1 && video.videoWidth === 0 && video.videoHeight === 0) showMessage(NO_PICTURE_MESSAGE);
  };
  video.addEventListener("loadedmetadata", checkPicture);
  video.addEventListener("loadeddata", checkPicture);
  checkPicture();
  byId("player-retry")?.addEventListener("click", () => {
    if (errorBox) errorBox.hidden = true;
    const position = video.currentTime;
    video.load();
    video.addEventListener("loadedmetadata", () => (video.currentTime = position), { once: true });
    void video.play().catch(() => {});
  });

  installUpNext(article, video, () => store?.finish(id, video.duration));
}

/**
 * When the video ends: count down to the next video, unless cancelled.
 * @param {HTMLElement} article
 * @param {HTMLVideoElement} video
 * @param {() => void} onEnded
 */
function installUpNext(article, video, onEnded) {
  const box = byId("up-next");
  const seconds = byId("up-next-seconds");
  const title = byId("up-next-title");
  const play = byId("up-next-play");
  const cancel = byId("up-next-cancel");
  const href = article.dataset.nextHref;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  const stop = () => {
    clearInterval(timer);
    if (box) box.hidden = true;
  };
  video.addEventListener("ended", () => {
    onEnded();
    if (!href || !box || !seconds || !title) return;
    let left = UP_NEXT_SECONDS;
    title.textContent = article.dataset.nextTitle || "";
    seconds.textContent = String(left);
    box.hidden = false;
    play?.focus();
    timer = setInterval(() => {
      left -= 1;
      seconds.textContent = String(left);
      if (left <= 0) {
        clearInterval(timer);
        location.assign(href);
      }
    }, 1000);
  });
  cancel?.addEventListener("click", () => {
    stop();
    video.focus();
  });
  video.addEventListener("play", stop);
}

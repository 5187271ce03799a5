// Arrow-key and TV-remote navigation: arrows move the focus to the nearest focusable element in
// that direction (cards in rows and grids, buttons, links), Enter opens (native), Escape goes
// back. `pickTarget` is the pure geometry, tested on its own.

/** @typedef {{left: number, top: number, right: number, bottom: number}} Box */
/** @typedef {"left" | "right" | "up" | "down"} Direction */

/** @type {Record<string, Direction>} */
export const KEY_DIRECTIONS = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
};

/**
 * The index of the box to move to from `from` in `direction`, or -1 when there is none.
 *
 * Left and right stay on the same line (boxes overlapping `from` vertically) and take the
 * nearest. Up and down first find the nearest line of boxes in that direction, then the box
 * on it closest to `from` horizontally — grid semantics that also suit rows of cards.
 * @param {Box} from
 * @param {Box[]} boxes
 * @param {Direction} direction
 * @returns {number}
 */
export function pickTarget(from, boxes, direction) {
  const fx = (from.left + from.right) / 2;
  const fy = (from.top + from.bottom) / 2;
  const height = from.bottom - from.top;
  /** @type {{index: number, primary: number, secondary: number}[]} */
  const candidates = [];
  boxes.forEach((box, index) => {
    const cx = (box.left + box.right) / 2;
    const cy = (box.top + box.bottom) / 2;
    if (direction === "left" || direction === "right") {
      const overlap = Math.min(box.bottom, from.bottom) - Math.max(box.top, from.top);
      if (overlap <= Math.min(box.bottom - box.top, height) / 3) return;
      const primary = direction === "right" ? cx - fx : fx - cx;
      if (primary > 1) candidates.push({ index, primary, secondary: Math.abs(cy - fy) });
    } else {
      const primary = direction === "down" ? cy - fy : fy - cy;
      if (primary <= Math.max(1, height / 4)) return;
      // Horizontal distance between the edges (0 when they overlap), then between centres.
      const gap = Math.max(0, box.left - from.right, from.left - box.right);
      candidates.push({ index, primary, secondary: gap * 10000 + Math.abs(cx - fx) });
    }
  });
  if (candidates.length === 0) return -1;
  const nearest = Math.min(...candidates.map((c) => c.primary));
  const line = direction === "left" || direction === "right" ? Infinity : nearest + Math.max(height / 2, 8);
  let best = null;
  for (const candidate of candidates) {
    if (candidate.primary > line) continue;
    const better =
      !best ||
      (direction === "left" || direction === "right"
        ? candidate.primary < best.primary || (candidate.primary === best.primary && candidate.secondary < best.secondary)
        : candidate.secondary < best.secondary || (candidate.secondary === best.secondary && candidate.primary < best.primary));
    if (better) best = candidate;
  }
  return best ? best.index : -1;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]):not([type="hidden"]), video[controls], [tabindex]:not([tabindex="-1"])';

/**
 * Whether the arrow key belongs to the element (text editing, select values, video seeking).
 * @param {Element | null} element
 * @param {Direction} direction
 * @returns {boolean}
 */
function ownsArrows(element, direction) {
  if (!element) return false;
  const tag = element.tagName;
  if (tag === "SELECT" || tag === "TEXTAREA" || tag === "VIDEO") return true;
  if (tag === "INPUT") {
    const type = /** @type {HTMLInputElement} */ (element).type;
    if (type === "checkbox" || type === "radio" || type === "file" || type === "submit" || type === "button") {
      return false;
    }
    // Single-line text fields keep left/right for the caret; up/down leave the field.
    return direction === "left" || direction === "right";
  }
  return false;
}

/** @param {Element} element */
function visible(element) {
  const box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) return false;
  return !element.closest("[hidden], dialog:not([open])");
}

/**
 * Installs the key handlers.
 * @param {() => void} onBack what Escape does when nothing else claims it
 */
export function installNavigation(onBack) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const active = document.activeElement;
    if (event.key === "Escape" || event.key === "GoBack" || event.key === "BrowserBack") {
      if (document.querySelector("dialog[open]")) return;
      if (active instanceof HTMLInputElement && active.type !== "checkbox") {
        active.blur();
        return;
      }
      if (event.key !== "BrowserBack") {
        event.preventDefault();
        onBack();
      }
      return;
    }
    const direction = KEY_DIRECTIONS[event.key];
    if (!direction || event.shiftKey) return;
    if (ownsArrows(active, direction)) return;
    const scope = document.querySelector("dialog[open]") || document;
    const all = Array.from(scope.querySelectorAll(FOCUSABLE)).filter(visible);
    if (all.length === 0) return;
    const current = active && active !== document.body && all.includes(active) ? active : null;
    let target;
    if (!current) {
      target = document.querySelector("[data-nav]") || all[0];
    } else {
      const others = all.filter((element) => element !== current);
      const index = pickTarget(
        current.getBoundingClientRect(),
        others.map((element) => element.getBoundingClientRect()),
        direction,
      );
      target = index >= 0 ? others[index] : null;
    }
    if (target instanceof HTMLElement) {
      event.preventDefault();
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });
}

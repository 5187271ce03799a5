// The theme picker: light, dark or system, saved in localStorage. theme-init.js applies the
// saved choice before the first paint; this module keeps the picker and the page in step.

export const THEME_KEY = "sofathek-theme";
/** The original's default: dark. */
export const DEFAULT_THEME = "dark";

/**
 * A stored value as a theme; anything unknown is the default.
 * @param {string | null | undefined} value
 * @returns {"light" | "dark" | "system"}
 */
export function normaliseTheme(value) {
  return value === "light" || value === "dark" || value === "system" ? value : DEFAULT_THEME;
}

/**
 * The colours in effect: `system` follows the operating system.
 * @param {"light" | "dark" | "system"} theme
 * @param {boolean} systemPrefersDark
 * @returns {"light" | "dark"}
 */
export function effectiveTheme(theme, systemPrefersDark) {
  if (theme === "system") return systemPrefersDark ? "dark" : "light";
  return theme;
}

/** @returns {string | null} */
function stored() {
  try {
    return window.localStorage.getItem(THEME_KEY);
  } catch {
    return null;
  }
}

/** Wires the header's theme select. */
export function installThemePicker() {
  const select = /** @type {HTMLSelectElement | null} */ (document.getElementById("theme-select"));
  if (!select) return;
  select.value = normaliseTheme(stored());
  select.addEventListener("change", () => {
    const theme = normaliseTheme(select.value);
    document.documentElement.setAttribute("data-theme", theme);
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Not persisted (storage disabled), but applied for this page.
    }
  });
}

// Runs before the page is painted (a classic, render-blocking script: CSP forbids inline
// scripts): applies the saved theme and marks the document as scripted, so there is no flash.
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var saved = window.localStorage.getItem("sofathek-theme");
    if (saved === "light" || saved === "dark" || saved === "system") {
      root.setAttribute("data-theme", saved);
    }
  } catch (e) {
    // Storage may be disabled (private mode): keep the default theme.
  }
})();

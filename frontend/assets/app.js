// The web UI's entry point: things every page has (theme picker, connection banner, keyboard
// navigation, thumbnail fallbacks), then the current page's module by `<body data-page>`.

import { initAdd } from "./add.js";
import { installThumbnailFallback } from "./cards.js";
import { initFamily } from "./family.js";
import { installHealthBanner } from "./health.js";
import { initLibrary } from "./library.js";
import { initManage } from "./manage.js";
import { installNavigation } from "./nav.js";
import { initPlayer } from "./player.js";
import { initScan } from "./scan.js";
import { initSources } from "./sources.js";
import { installThemePicker } from "./theme.js";

/** Escape: leave the player for where the family came from; elsewhere, the library. */
function back() {
  const page = document.body.dataset.page;
  if (page === "library") return;
  const fromHere = document.referrer && new URL(document.referrer).origin === location.origin;
  if (page === "watch" && fromHere && history.length > 1) history.back();
  else location.assign("/");
}

installThemePicker();
installThumbnailFallback();
installHealthBanner();
installNavigation(back);

switch (document.body.dataset.page) {
  case "library":
    initLibrary();
    break;
  case "watch":
    initPlayer();
    break;
  case "add":
    initAdd();
    break;
  case "manage":
    initManage();
    initScan();
    initSources();
    initFamily();
    break;
}

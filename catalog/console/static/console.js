// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // "/" focuses the search box, as on most catalogs.
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement;
    if (event.key === "/" && !typing) {
      const box = document.getElementById("q") || document.getElementById("top-q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    }
  });
})();

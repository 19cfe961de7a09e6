// The "Copy as Markdown" button: shown only where the clipboard can be written.
(function () {
  "use strict";
  const button = document.getElementById("copy-markdown");
  const source = document.getElementById("markdown");
  if (!button || !source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.value).then(
      function () { button.textContent = "Copied"; },
      function () { source.select(); button.textContent = "Select and copy (Ctrl-C)"; }
    );
  });
})();

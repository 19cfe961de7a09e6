// Swagger UI for the REST endpoints (OpenLineage, ledger export, health), vendored.
(function () {
  "use strict";
  const container = document.getElementById("swagger-ui");
  // validatorUrl null: its default fetches a badge from the validator's own host.
  window.ui = SwaggerUIBundle({ url: container.dataset.spec, domNode: container, validatorUrl: null });
})();

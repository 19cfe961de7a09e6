// Swagger UI for the REST endpoints (OpenLineage, ledger export, health), vendored.
(function () {
  "use strict";
  const container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: container.dataset.spec, domNode: container });
})();

// GraphiQL against this server's /graphql, from vendored files only. The query in the
// URL (?q=...; ?query= would run it as a GET request) is kept there so a query can be shared as a link.
(function () {
  "use strict";
  const container = document.getElementById("graphiql");
  const params = new URLSearchParams(window.location.search);
  const starter = "# Baton's GraphQL API: Ctrl-Enter runs, Ctrl-Space completes.\n" +
    "query Search {\n  search(text: \"orders\", first: 5) { kind label }\n}\n";
  const fetcher = GraphiQL.createFetcher({ url: container.dataset.endpoint });
  function remember(query) {
    params.set("q", query);
    history.replaceState(null, "", "?" + params.toString());
  }
  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: starter,
      query: params.get("q") || undefined,
      onEditQuery: remember,
      defaultEditorToolsVisibility: true,
    })
  );
})();

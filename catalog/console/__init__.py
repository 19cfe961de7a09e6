"""The Baton console: server-rendered pages (Jinja2) over the same services as the CLI and
GraphQL, progressive enhancement with htmx, and a Cytoscape.js lineage explorer. Every
third-party file is vendored under static/vendor, pinned by tools/console-assets."""

"""Use cases over the store protocol, shared by the GraphQL API and the CLI."""

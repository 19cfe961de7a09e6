"""The HTTP API: GraphQL (strawberry on FastAPI) and health endpoints, thin over services."""

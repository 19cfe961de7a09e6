"""The Neo4j store: statements (`cypher`), row building (`rows`), the adapter (`store`;
settings in `catalog.config`). Only `store` imports the driver."""

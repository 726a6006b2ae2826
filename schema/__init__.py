"""The GraphQL schema, code-first in strawberry; `schema.graphql` is its committed export."""

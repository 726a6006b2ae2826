"""The local AppSync: the HTTP GraphQL endpoint, AppSync-shaped events, and the resolver Lambda's invoker."""

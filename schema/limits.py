"""AppSync's query limits for this schema: set on the API by the CDK app and enforced alike by the local emulator.

- Depth: no type of this schema refers back to itself, so the deepest selection a client can make is 5
  levels (`basket { strategies { legs { … } } }` and the like). Only introspection goes deeper: the standard
  introspection query (GraphiQL's) is 15 levels, so 15 admits it and nothing else can reach it.
- Resolvers: only root fields have resolvers (nested fields come with their root field's Lambda result),
  so the count is the number of root fields a request selects, aliases included. A screen asks for a few
  at once; 10 leaves room, and refuses the 1,000-alias request before any resolver runs.
"""

from __future__ import annotations

QUERY_DEPTH_LIMIT = 15
RESOLVER_COUNT_LIMIT = 10

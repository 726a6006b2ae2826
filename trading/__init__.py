"""The trading domain: plain Python, no AWS, HTTP or GraphQL imports."""

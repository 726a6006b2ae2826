"""The Lambda context the local stack hands every function it runs in-process (powertools' Logger reads it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    """The attributes and methods of a Lambda context that our handlers and powertools use."""

    function_name: str = "basketgraph-resolvers"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:ap-south-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000

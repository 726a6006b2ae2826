"""moto remembers every model object it ever made; the embedded services' objects are let go of instead.

moto's `BaseModel.__new__` appends each new instance to its class's `instances_tracked` list, for ever: it
feeds moto's own dashboard (`/moto-api/data.json`) and its reset, neither of which the stack uses. For the
embedded DynamoDB that is every `Item` ever built (each put, update and transaction copy makes new ones, with
their attributes), every stream record and every shard iterator, trimmed or expired or not: in the soak with
8 LIVE baskets ~25 MiB a minute, the whole of the stack's growth. Objects of the services the stack embeds
are therefore not tracked; what they hold in their backends is as before, so no API answers differently.
"""

from __future__ import annotations

from typing import Any

from local.dynamodb.speedups import _for_written_moto

# The moto services the embedded server holds state for (the package under `moto.` that defines the model).
UNTRACKED_SERVICES = frozenset({"dynamodb", "dynamodbstreams", "cognitoidp", "ssm", "scheduler"})


@_for_written_moto
def untracked_models() -> None:
    """New model objects of `UNTRACKED_SERVICES` are no longer added to `instances_tracked`; those of other
    services still are (moto's S3 reset closes its keys' files through it). Idempotent."""
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "_untracked", False):
        return

    def new(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        if cls.__module__.split(".")[1] not in UNTRACKED_SERVICES:
            cls.instances_tracked.append(instance)
        return instance

    new._untracked = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]

"""Build the strawberry schema and export it as AppSync-valid SDL (no AWS scalar or directive definitions)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.utils.str_converters import to_camel_case

from schema.aws import AWS_SCALARS, SCALAR_OVERRIDES
from schema.operations import Mutation, Query, Subscription

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
_AWS_SCALAR_DEFINITION = re.compile(
    r'(?:"""(?:(?!""").)*"""\s*|"[^"\n]*"\s*)?scalar (?:' + "|".join(AWS_SCALARS) + r")\b[^\n]*\n*",
    re.DOTALL,
)


def resolve_from_payload(source: Any, python_name: str) -> Any:
    """Nested fields read the Lambda's JSON payload (camelCase keys), as AppSync does."""
    if isinstance(source, dict):
        return source.get(to_camel_case(python_name))
    return getattr(source, python_name)


@cache
def build_schema(*, caches: bool = False) -> strawberry.Schema:
    """The API's schema. With `caches` it parses and validates each document once, as AppSync does
    (the local emulator executes the same few publish mutations thousands of times)."""
    extensions: list[Any] = [lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)] if caches else []
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(default_resolver=resolve_from_payload),
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=extensions,
    )


def export_sdl() -> str:
    """The schema as AppSync takes it: strawberry's print, less AWS scalar definitions."""
    sdl = _AWS_SCALAR_DEFINITION.sub("", build_schema().as_str())
    return sdl.strip() + "\n"


def write_schema(path: Path = SCHEMA_FILE) -> bool:
    """Write the export; returns True when the file changed."""
    sdl = export_sdl()
    if path.exists() and path.read_text() == sdl:
        return False
    path.write_text(sdl)
    return True

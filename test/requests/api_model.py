"""Checks an API request against the service's own model, as botocore ships it (the JSON models on PyPI).

botocore's client-side validation checks only types, required members and minimum lengths. AWS checks
more on its side: maximum lengths, patterns and enums, and answers a ValidationException naming the
member ("Value '...' at 'processingJobName' failed to satisfy constraint: Member must satisfy regular
expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"). This module checks all of them, so a request
the SDK would happily send but AWS would refuse fails a test instead of a deployment.

Patterns are matched against the whole value, as the services do (the message above quotes the
pattern anchored). The models use Java-style classes such as \\p{L}; the `regex` module reads those.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session
import regex
from botocore.model import OperationModel, Shape


@dataclass(frozen=True)
class Violation:
    path: str
    rule: str
    value: Any

    def __str__(self) -> str:
        shown = repr(self.value)
        return f"{self.path}: {self.rule} (value {shown[:120]}{'...' if len(shown) > 120 else ''})"


@lru_cache(maxsize=None)
def service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def operation(service: str, name: str) -> OperationModel:
    return service_model(service).operation_model(name)


@lru_cache(maxsize=None)
def _compiled(pattern: str):
    return regex.compile(pattern)


def validate(service: str, operation_name: str, params: dict) -> list[Violation]:
    """Every way `params` breaks the input shape of `service`.`operation_name`; empty when valid."""
    shape = operation(service, operation_name).input_shape
    found: list[Violation] = []
    if shape is not None:
        _check(shape, params, operation_name, found)
    return found


def validate_value(service: str, shape_name: str, value: Any, path: str) -> list[Violation]:
    """Every way `value` breaks the named shape (for members nested in a document, e.g. a pipeline step)."""
    found: list[Violation] = []
    _check(service_model(service).shape_for(shape_name), value, path, found)
    return found


def _check(shape: Shape, value: Any, path: str, found: list[Violation]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(Violation(path, f"must be an object ({shape.name})", value))
            return
        for name in shape.required_members:
            if name not in value:
                found.append(Violation(f"{path}.{name}", "is required", None))
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                found.append(Violation(f"{path}.{name}", f"is not a member of {shape.name}", member_value))
            else:
                _check(member, member_value, f"{path}.{name}", found)
        return
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            found.append(Violation(path, "must be a list", value))
            return
        _length(meta, len(value), path, value, found, "items")
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", found)
        return
    if kind == "map":
        if not isinstance(value, dict):
            found.append(Violation(path, "must be a map", value))
            return
        _length(meta, len(value), path, value, found, "entries")
        for k, v in value.items():
            _check(shape.key, k, f"{path}{{key {k!r}}}", found)
            _check(shape.value, v, f"{path}[{k!r}]", found)
        return
    if kind == "string":
        if not isinstance(value, str):
            found.append(Violation(path, "must be a string", value))
            return
        _length(meta, len(value), path, value, found, "characters")
        if shape.enum and value not in shape.enum:
            found.append(Violation(path, f"must be one of {', '.join(shape.enum)}", value))
        pattern = meta.get("pattern")
        if pattern is not None and _compiled(pattern).fullmatch(value) is None:
            found.append(Violation(path, f"must match the pattern {pattern}", value))
        return
    if kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            found.append(Violation(path, f"must be a number ({kind})", value))
            return
        if kind in ("integer", "long") and not float(value).is_integer():
            found.append(Violation(path, "must be a whole number", value))
        if "min" in meta and value < meta["min"]:
            found.append(Violation(path, f"must be at least {meta['min']}", value))
        if "max" in meta and value > meta["max"]:
            found.append(Violation(path, f"must be at most {meta['max']}", value))
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            found.append(Violation(path, "must be true or false", value))
        return
    if kind == "timestamp":
        if not isinstance(value, (datetime.datetime, str, int, float)):
            found.append(Violation(path, "must be a timestamp", value))
        return
    if kind == "blob":
        if isinstance(value, str):
            _length(meta, len(value.encode()), path, value, found, "bytes")
        return
    # "document" and anything newer: nothing the model constrains.


def _length(meta: dict, size: int, path: str, value: Any, found: list[Violation], unit: str) -> None:
    if "min" in meta and size < meta["min"]:
        found.append(Violation(path, f"must have at least {meta['min']} {unit}", value))
    if "max" in meta and size > meta["max"]:
        found.append(Violation(path, f"must have at most {meta['max']} {unit}", value))

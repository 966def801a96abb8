#!/usr/bin/env python3
"""Writes test/research/fixtures/api-shapes.json: the request shapes of every API call the research resources
make, taken from botocore's service models (PyPI), with only what validation needs (types, members, required,
lengths, ranges, patterns, enums). npm test reads it, so it needs no Python; this script regenerates it:

    bash research/setup-python.sh requests && .venv/requests/bin/python research/api-models/generate-api-shapes.py

The botocore version is recorded in the file; test/requests checks the file is what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import botocore
import botocore.session

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "test" / "research" / "fixtures" / "api-shapes.json"

# Service → the operations the research part's resources, pipeline and commands send.
OPERATIONS = {
    "sagemaker": [
        "CreateDomain",
        "CreateUserProfile",
        "CreateImage",
        "CreateImageVersion",
        "CreateAppImageConfig",
        "CreatePipeline",
        "CreateProcessingJob",
        "StartPipelineExecution",
    ],
    "iam": ["CreateRole", "PutRolePolicy"],
    "ecr": ["CreateRepository", "PutLifecyclePolicy"],
    "identitystore": ["CreateUser", "CreateGroup", "CreateGroupMembership"],
    "sso-admin": ["CreateApplicationAssignment"],
}

KEPT = ("min", "max", "pattern")


def shapes_of(service: str, operations: list[str]) -> dict:
    model = botocore.session.get_session().get_service_model(service)
    shapes: dict[str, dict] = {}

    def visit(shape) -> str:
        if shape.name in shapes:
            return shape.name
        entry: dict = {"type": shape.type_name}
        shapes[shape.name] = entry
        entry.update({k: shape.metadata[k] for k in KEPT if k in shape.metadata})
        if shape.type_name == "string" and shape.enum:
            entry["enum"] = list(shape.enum)
        if shape.type_name == "structure":
            entry["members"] = {name: visit(member) for name, member in shape.members.items()}
            if shape.required_members:
                entry["required"] = list(shape.required_members)
        elif shape.type_name == "list":
            entry["member"] = visit(shape.member)
        elif shape.type_name == "map":
            entry["key"] = visit(shape.key)
            entry["value"] = visit(shape.value)
        return shape.name

    ops = {name: visit(model.operation_model(name).input_shape) for name in operations}
    return {"apiVersion": model.api_version, "operations": ops, "shapes": dict(sorted(shapes.items()))}


def generate() -> str:
    document = {
        "generatedBy": "research/api-models/generate-api-shapes.py",
        "botocore": botocore.__version__,
        "services": {service: shapes_of(service, ops) for service, ops in OPERATIONS.items()},
    }
    return json.dumps(document, indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    text = generate()
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.read_text() == text else 1)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(text)} bytes, botocore {botocore.__version__})")

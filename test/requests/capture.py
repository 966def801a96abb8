"""Records every AWS call a Python SDK makes in-process, and answers the ones a test chooses to answer.

The SageMaker Python SDK and boto3 both end in botocore's BaseClient._make_api_call(operation, params):
the params there are exactly what the SDK asked botocore to send. Calls without a responder go on to
botocore as usual (under moto's mock_aws, to moto), so S3 uploads and log reads behave as AWS would.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from botocore.client import BaseClient


@dataclass
class Call:
    service: str
    operation: str
    params: dict


Responder = Callable[[dict], dict]


@contextlib.contextmanager
def capture_calls(responders: dict[tuple[str, str], Responder] | None = None) -> Iterator[list[Call]]:
    calls: list[Call] = []
    original = BaseClient._make_api_call
    answers = responders or {}

    def recording(self: BaseClient, operation_name: str, api_params: dict) -> Any:
        service = self.meta.service_model.service_name
        calls.append(Call(service, operation_name, api_params))
        respond = answers.get((service, operation_name))
        return respond(api_params) if respond else original(self, operation_name, api_params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]

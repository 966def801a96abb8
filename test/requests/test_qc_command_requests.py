"""`npm run qc` (the project's TypeScript client, research/processing/run-qc.ts) run for real against a loopback
SageMaker endpoint that records every request and answers like a pipeline execution that succeeds; every
recorded request is checked against botocore's SageMaker model.

Only the Pulumi CLI is stood in for (no CLI here): a `pulumi` on PATH prints the stack outputs the command reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from api_model import validate

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BUCKET = "fieldnotes-research-444444444444-use1"
PIPELINE = "fieldnotes-research-pegasus-qc"
EXECUTION = f"arn:aws:sagemaker:{REGION}:444444444444:pipeline/{PIPELINE}/execution/k2n4x9q1w7e3"
OUTPUTS = {
    "research": {
        "region": REGION,
        "bucket": BUCKET,
        "outputPrefix": f"s3://{BUCKET}/pegasus/output/",
        "pipelineName": PIPELINE,
    }
}


class SageMakerEndpoint(BaseHTTPRequestHandler):
    """SageMaker's JSON protocol: the operation in X-Amz-Target, the request members as the JSON body."""

    requests: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        operation = self.headers.get("X-Amz-Target", "").removeprefix("SageMaker.")
        self.requests.append((operation, body))
        answers = {
            "StartPipelineExecution": {"PipelineExecutionArn": EXECUTION},
            "DescribePipelineExecution": {"PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": "Succeeded"},
            "ListPipelineExecutionSteps": {
                "PipelineExecutionSteps": [{"StepName": "PegasusQC", "StepStatus": "Succeeded"}]
            },
        }
        status, answer = (200, answers[operation]) if operation in answers else (400, {"__type": "UnknownOperation"})
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def endpoint():
    SageMakerEndpoint.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SageMakerEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", SageMakerEndpoint.requests
    server.shutdown()
    server.server_close()


def run_qc(endpoint_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f"#!/bin/sh\ncat <<'JSON'\n{json.dumps(OUTPUTS)}\nJSON\n")
    pulumi.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_SAGEMAKER": endpoint_url,
    }
    env.pop("AWS_PROFILE", None)
    return subprocess.run(
        ["npm", "run", "--silent", "qc", "--", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_request_npm_run_qc_makes_passes_the_api_model(endpoint, tmp_path):
    url, requests = endpoint
    done = run_qc(
        url,
        tmp_path,
        "--stack",
        "research",
        "--input",
        f"s3://{BUCKET}/pegasus/input/heart_1k_v2.h5",
        "--mito-prefix",
        "mt-",
        "--poll-seconds",
        "1",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "qc_metrics.csv" in done.stdout
    operations = [op for op, _ in requests]
    assert operations[0] == "StartPipelineExecution"
    assert {"DescribePipelineExecution", "ListPipelineExecutionSteps"} <= set(operations)
    problems = [f"{op}: {v}" for op, body in requests for v in validate("sagemaker", op, body)]
    assert problems == [], "\n".join(problems)
    start = requests[0][1]
    assert start["PipelineName"] == PIPELINE
    assert {"Name": "MitoPrefix", "Value": "mt-"} in start["PipelineParameters"]


def test_npm_run_qc_refuses_to_start_without_an_explicit_mito_prefix(endpoint, tmp_path):
    url, requests = endpoint
    done = run_qc(url, tmp_path, "--stack", "research", "--input", f"s3://{BUCKET}/pegasus/input/heart_1k_v2.h5")
    assert done.returncode == 2
    assert "--mito-prefix is required" in done.stderr
    assert requests == []

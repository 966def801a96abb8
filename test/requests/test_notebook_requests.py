"""The research notebook's code cells, run with the SDK the notebook pins (sagemaker>=2,<3), with every AWS
call captured and checked against botocore's service models: what the notebook would send, field by field.

S3 and CloudWatch Logs calls go to moto (in-process, no network); SageMaker's processing-job calls are
answered here (moto's DescribeProcessingJob lacks fields the SDK reads), echoing the job the notebook
created, as completed.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path

import pytest
from api_model import validate
from capture import capture_calls

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "research" / "notebooks" / "sagemaker_pegasus_processing.ipynb"
SCRIPT = ROOT / "research" / "processing" / "qc_metrics.py"
ACCOUNT = "444444444444"
REGION = "us-east-1"
BUCKET = f"fieldnotes-research-{ACCOUNT}-use1"
# What the research stack exports: images by digest (research/index.ts, ResearchOutputs).
OUTPUTS = {
    "research": {
        "region": REGION,
        "bucket": BUCKET,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/fieldnotes-research-studio-execution",
        "imageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fieldnotes-research@sha256:{'a' * 64}",
        "processingImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fieldnotes-research@sha256:{'b' * 64}",
    }
}


def code_cells() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    # The first cell is the `%pip install "sagemaker>=2,<3"` magic; this venv holds that pin already.
    assert sources[0].strip() == '%pip install "sagemaker>=2,<3"'
    return sources[1:]


class ProcessingJobs:
    """SageMaker's answers for the processing-job calls: the created job, then Completed."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}

    def create(self, params: dict) -> dict:
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{params['ProcessingJobName'].lower()}"
        now = datetime.datetime.now(datetime.timezone.utc)
        self.jobs[params["ProcessingJobName"]] = {
            **params,
            "ProcessingJobArn": arn,
            "ProcessingJobStatus": "Completed",
            "CreationTime": now,
            "ProcessingStartTime": now,
            "ProcessingEndTime": now,
        }
        return {"ProcessingJobArn": arn}

    def describe(self, params: dict) -> dict:
        return self.jobs[params["ProcessingJobName"]]


@pytest.fixture()
def notebook_calls(tmp_path, monkeypatch):
    sagemaker = pytest.importorskip("sagemaker")
    assert sagemaker.__version__.startswith("2."), "the notebook pins sagemaker>=2,<3"
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    # What a researcher uploads next to the notebook: the stack outputs, the script, the sample.
    (tmp_path / "research-outputs.json").write_text(json.dumps(OUTPUTS))
    shutil.copy(SCRIPT, tmp_path / "qc_metrics.py")
    (tmp_path / "heart_1k_v2.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(1024))
    monkeypatch.chdir(tmp_path)

    jobs = ProcessingJobs()
    with mock_aws():
        import boto3

        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        with capture_calls(
            {
                ("sagemaker", "CreateProcessingJob"): jobs.create,
                ("sagemaker", "DescribeProcessingJob"): jobs.describe,
            }
        ) as calls:
            namespace: dict = {}
            for source in code_cells():
                exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102 - the notebook is ours
    return calls


def test_every_request_the_notebook_makes_passes_the_api_models(notebook_calls):
    assert notebook_calls, "the notebook made no AWS call"
    problems = [
        f"{c.service} {c.operation}: {v}" for c in notebook_calls for v in validate(c.service, c.operation, c.params)
    ]
    assert problems == [], "\n".join(problems)


def test_the_notebook_starts_one_processing_job_with_an_explicit_valid_name(notebook_calls):
    created = [c.params for c in notebook_calls if c.operation == "CreateProcessingJob"]
    assert len(created) == 1
    job = created[0]
    # Without a name, SDK v2 derives one from the image URI, and a digest-pinned URI puts "@sha256" in it.
    assert job["ProcessingJobName"].startswith("pegasus-qc-"), job["ProcessingJobName"]
    assert job["AppSpecification"]["ImageUri"] == OUTPUTS["research"]["processingImageUri"]
    assert job["RoleArn"] == OUTPUTS["research"]["executionRoleArn"]
    arguments = job["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--mito-prefix") + 1] == "mt-"
    outputs = job["ProcessingOutputConfig"]["Outputs"]
    assert outputs[0]["S3Output"]["S3Uri"] == f"s3://{BUCKET}/pegasus/output"


def test_the_validator_refuses_what_aws_refuses():
    # The defect this suite exists for, and the kinds of rule botocore itself does not check.
    bad = {
        "ProcessingJobName": "fieldnotes-research@sha256-2026-11-28-02-36-26-018",
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.huge", "InstanceCount": 1, "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": "x" * 300},
        "RoleArn": "arn:aws:iam::444444444444:role/r",
        "StoppingCondition": {"MaxRuntimeInSeconds": 10**9},
    }
    rules = {v.path: v.rule for v in validate("sagemaker", "CreateProcessingJob", bad)}
    assert "pattern" in rules["CreateProcessingJob.ProcessingJobName"]
    assert "must be one of" in rules["CreateProcessingJob.ProcessingResources.ClusterConfig.InstanceType"]
    assert "at most 255" in rules["CreateProcessingJob.AppSpecification.ImageUri"]
    assert "at most" in rules["CreateProcessingJob.StoppingCondition.MaxRuntimeInSeconds"]


def test_the_committed_api_shapes_fixture_is_what_botocore_gives():
    # npm test checks the plan against test/research/fixtures/api-shapes.json without Python; this keeps
    # that file equal to what the pinned botocore's models say (regenerate with the script if not).
    import importlib.util

    script = ROOT / "research" / "api-models" / "generate-api-shapes.py"
    spec = importlib.util.spec_from_file_location("generate_api_shapes", script)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.TARGET.read_text() == generator.generate(), f"stale fixture: run {script.relative_to(ROOT)}"

"""The CreateTrainingJob request for a managed-spot training job.

Managed spot training is only safe with a checkpoint location (so an interrupted job
resumes instead of restarting) and a wait budget larger than the run budget (the
difference is how long SageMaker may wait for spot capacity). Both are checked here, at
synth time, so a bad config never reaches a running pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdas.common.errors import InputError, Problem

#: SageMaker's ceiling for MaxRuntimeInSeconds / MaxWaitTimeInSeconds (28 days).
MAX_TRAINING_SECONDS = 28 * 24 * 3600
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"


@dataclass(frozen=True)
class MetricDefinition:
    """A metric SageMaker scrapes from the training log with a regular expression."""

    name: str
    regex: str


@dataclass(frozen=True)
class SpotTrainingSpec:
    """What to train and on what; everything that does not change between runs."""

    image_uri: str
    role_arn: str
    instance_type: str
    instance_count: int = 1
    volume_size_gb: int = 50
    max_runtime_seconds: int = 24 * 3600
    max_wait_seconds: int = 48 * 3600
    kms_key_arn: str | None = None
    subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    metric_definitions: Sequence[MetricDefinition] = ()
    input_content_type: str = "application/x-parquet"
    managed_spot: bool = True

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        if not self.image_uri:
            found.append(Problem("image_uri", "is empty; name the training image"))
        if not self.instance_type.startswith("ml."):
            found.append(Problem("instance_type", f"'{self.instance_type}' is not a SageMaker type (ml.*)"))
        if self.instance_count < 1:
            found.append(Problem("instance_count", "must be at least 1"))
        if not 1 <= self.max_runtime_seconds <= MAX_TRAINING_SECONDS:
            found.append(Problem("max_runtime_seconds", f"must be between 1 and {MAX_TRAINING_SECONDS}"))
        if self.managed_spot and self.max_wait_seconds <= self.max_runtime_seconds:
            found.append(
                Problem(
                    "max_wait_seconds",
                    f"{self.max_wait_seconds} must be greater than max_runtime_seconds "
                    f"{self.max_runtime_seconds}: managed spot training needs time to wait for capacity",
                )
            )
        elif self.max_wait_seconds > MAX_TRAINING_SECONDS:
            found.append(Problem("max_wait_seconds", f"must not exceed {MAX_TRAINING_SECONDS}"))
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            found.append(Problem("subnet_ids", "subnets and security groups must be given together"))
        names = [m.name for m in self.metric_definitions]
        if len(set(names)) != len(names):
            found.append(Problem("metric_definitions", "metric names must be unique"))
        return found

    def validate(self, source: str = "") -> None:
        found = self.problems()
        if found:
            raise InputError(found, source)


def create_training_job_request(
    spec: SpotTrainingSpec,
    *,
    job_name: str,
    training_data_uri: str,
    checkpoint_uri: str,
    output_uri: str,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateTrainingJob parameters, in the API's own casing.

    The names are plain strings so that the state machine can put JSONPath placeholders
    in them for the values that change per run (job name, data location).
    """
    spec.validate("training")
    algorithm: dict[str, Any] = {"TrainingImage": spec.image_uri, "TrainingInputMode": "File"}
    if spec.metric_definitions:
        algorithm["MetricDefinitions"] = [{"Name": m.name, "Regex": m.regex} for m in spec.metric_definitions]
    output: dict[str, Any] = {"S3OutputPath": output_uri}
    resources: dict[str, Any] = {
        "InstanceType": spec.instance_type,
        "InstanceCount": spec.instance_count,
        "VolumeSizeInGB": spec.volume_size_gb,
    }
    if spec.kms_key_arn:
        output["KmsKeyId"] = spec.kms_key_arn
        resources["VolumeKmsKeyId"] = spec.kms_key_arn
    request: dict[str, Any] = {
        "TrainingJobName": job_name,
        "RoleArn": spec.role_arn,
        "AlgorithmSpecification": algorithm,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": spec.input_content_type,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": training_data_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": output,
        "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_seconds},
        "EnableManagedSpotTraining": spec.managed_spot,
        # Checkpoints also help on-demand jobs: a retried attempt resumes instead of restarting.
        "CheckpointConfig": {"S3Uri": checkpoint_uri, "LocalPath": CHECKPOINT_LOCAL_PATH},
        "EnableInterContainerTrafficEncryption": True,
    }
    if spec.managed_spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = spec.max_wait_seconds
    if spec.hyperparameters:
        request["HyperParameters"] = dict(spec.hyperparameters)
    if spec.subnet_ids:
        request["VpcConfig"] = {
            "Subnets": list(spec.subnet_ids),
            "SecurityGroupIds": list(spec.security_group_ids),
        }
    if tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return request

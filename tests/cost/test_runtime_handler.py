import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from lambdas.common.errors import InputError
from lambdas.cost import runtime_handler
from lambdas.cost.cloudwatch_reader import MetricReader
from lambdas.cost.runtime_collect import finished_training_jobs
from lambdas.cost.runtime_handler import run
from lambdas.cost.runtime_settings import RuntimeCostSettings

REGION = "us-east-1"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        clients = {name: boto3.client(name, region_name=REGION) for name in ("sagemaker", "cloudwatch", "s3")}
        clients["s3"].create_bucket(Bucket="cost-reports")
        yield clients


def _endpoint(sm, name, instance_type, count, slo_ms=None):
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InstanceType": instance_type,
                "InitialInstanceCount": count,
            }
        ],
    )
    tags = [{"Key": "mlplatform:latency-slo-ms", "Value": str(slo_ms)}] if slo_ms else []
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", Tags=tags)


def _put(cw, namespace, name, endpoint, values, unit="None"):
    data = [
        {
            "MetricName": name,
            "Dimensions": [
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            "Timestamp": NOW - timedelta(hours=hour + 1, minutes=-30),
            "Value": value,
            "Unit": unit,
        }
        for hour, value in enumerate(values)
    ]
    cw.put_metric_data(Namespace=namespace, MetricData=data)


def _settings(**overrides):
    return RuntimeCostSettings(report_bucket="cost-reports", region=REGION, window_hours=24, **overrides)


def test_metric_reader_falls_back_to_labelled_maximum_for_percentiles(aws):
    _put(aws["cloudwatch"], "AWS/SageMaker", "ModelLatency", "e", [1000, 2000, 50_000], "Microseconds")
    reader = MetricReader(aws["cloudwatch"], NOW - timedelta(hours=24), NOW, 3600)
    p99 = reader.percentile(
        "AWS/SageMaker", "ModelLatency", {"EndpointName": "e", "VariantName": "AllTraffic"}
    )
    assert p99 is not None and p99.value == 50_000 and p99.is_maximum
    dims = {"EndpointName": "e", "VariantName": "AllTraffic"}
    assert reader.peak_period_average("AWS/SageMaker", "ModelLatency", dims) == 50_000
    assert reader.total("AWS/SageMaker", "ModelLatency", dims) == 53_000


def test_metric_reader_prefers_extended_statistics_when_present():
    class Client:
        def get_metric_statistics(self, **kwargs):
            assert kwargs["ExtendedStatistics"] == ["p99"]
            return {
                "Datapoints": [
                    {"ExtendedStatistics": {"p99": 900.0}},
                    {"ExtendedStatistics": {"p99": 1200.0}},
                ]
            }

    p99 = MetricReader(Client(), NOW, NOW, 3600).percentile("ns", "m", {})
    assert p99 is not None and (p99.value, p99.is_maximum) == (1200.0, False)


def test_report_in_s3_with_cost_per_inference_and_rightsizing(aws):
    sm, cw, s3 = aws["sagemaker"], aws["cloudwatch"], aws["s3"]
    _endpoint(sm, "fraud", "ml.c5.4xlarge", 2, slo_ms=100)  # under-used: 10% CPU
    _endpoint(sm, "legacy", "ml.m5.xlarge", 1)  # idle
    _put(cw, "AWS/SageMaker", "Invocations", "fraud", [36_000] * 24)
    _put(cw, "AWS/SageMaker", "InvocationsPerInstance", "fraud", [18_000] * 24)
    _put(cw, "AWS/SageMaker", "ModelLatency", "fraud", [20_000] * 24, "Microseconds")
    _put(cw, "/aws/sagemaker/Endpoints", "CPUUtilization", "fraud", [100.0] * 23 + [160.0], "Percent")
    _put(cw, "/aws/sagemaker/Endpoints", "MemoryUtilization", "fraud", [20.0] * 24, "Percent")

    report = run(_settings(), sagemaker=sm, cloudwatch=cw, s3=s3, now=NOW)

    costs = {c["endpoint"]: c for c in report["cost_per_inference"]}
    # 2 instances x 24 h x $0.816 over 864,000 invocations
    assert costs["fraud"]["average_instance_count"] == pytest.approx(2.0)
    assert costs["fraud"]["cost_per_inference_usd"] == pytest.approx(2 * 24 * 0.816 / 864_000)
    assert costs["legacy"]["cost_per_inference_usd"] is None
    actions = {r["endpoint"]: r for r in report["rightsizing"]}
    assert (
        actions["fraud"]["action"] == "downsize" and actions["fraud"]["recommended_type"] == "ml.c5.2xlarge"
    )
    assert any("max (p99 unavailable) model latency 20.0 ms" in e for e in actions["fraud"]["evidence"])
    assert actions["legacy"]["action"] == "idle"
    expected_saving = 2 * (0.816 - 0.408) * 730 + 0.23 * 730
    assert report["summary"]["rightsizing_monthly_saving_usd"] == pytest.approx(expected_saving, abs=0.01)

    bucket, key = report["report_location"].removeprefix("s3://").split("/", 1)
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored["summary"] == report["summary"]
    assert stored["catalog"]["date"] == "2025-06-01" and stored["catalog"]["hours_per_month"] == 730


def test_tiering_from_s3_storage_metrics(aws):
    cw = aws["cloudwatch"]
    day = NOW - timedelta(hours=12)
    cw.put_metric_data(
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": "BucketSizeBytes",
                "Timestamp": day,
                "Value": 2048 * 1024**3,
                "Unit": "Bytes",
                "Dimensions": [
                    {"Name": "BucketName", "Value": "capture"},
                    {"Name": "StorageType", "Value": "StandardStorage"},
                ],
            },
            {
                "MetricName": "NumberOfObjects",
                "Timestamp": day,
                "Value": 100_000,
                "Unit": "Count",
                "Dimensions": [
                    {"Name": "BucketName", "Value": "capture"},
                    {"Name": "StorageType", "Value": "AllStorageTypes"},
                ],
            },
        ],
    )
    report = run(
        _settings(buckets=["capture"]), sagemaker=aws["sagemaker"], cloudwatch=cw, s3=aws["s3"], now=NOW
    )
    tiering = report["storage_tiering"][0]
    assert tiering["bucket"] == "capture"
    # 2,048 GiB x 50% cold x $0.0105 - 100,000 objects x $0.0000025
    assert tiering["estimated_saving_usd"] == pytest.approx(1024 * 0.0105 - 0.25)
    assert report["summary"]["tiering_monthly_saving_usd"] == pytest.approx(1024 * 0.0105 - 0.25, abs=0.01)


@dataclass
class _Context:
    function_name: str = "cost-runtime"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cost-runtime"
    aws_request_id: str = "req-1"


def test_handler_writes_report_and_emits_emf(aws, monkeypatch, capsys):
    monkeypatch.setenv("REPORT_BUCKET", "cost-reports")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(runtime_handler, "_settings", None)
    _endpoint(aws["sagemaker"], "fraud", "ml.m5.xlarge", 1)
    _put(aws["cloudwatch"], "AWS/SageMaker", "Invocations", "fraud", [1000] * 3)
    result = runtime_handler.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, _Context())
    assert result["status"] == "ok" and result["report"].startswith("s3://cost-reports/cost-reports/")
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"CostPerThousandInferences", "RightSizingMonthlySaving", "EndpointMonthlyCost"} <= names


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_returns_structured_error_for_bad_event(aws, monkeypatch):
    monkeypatch.setenv("REPORT_BUCKET", "cost-reports")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(runtime_handler, "_settings", None)
    result = runtime_handler.handler({"window_hours": -5}, _Context())
    assert result["status"] == "error"
    assert result["problems"][0].startswith("event: window_hours: Input should be greater than 0")


def test_missing_report_bucket_is_named():
    with pytest.raises(InputError) as info:
        RuntimeCostSettings.from_environment({"WINDOW_HOURS": "24"})
    assert info.value.problems[0].field == "REPORT_BUCKET"


def test_settings_parse_bucket_list_and_bounds():
    settings = RuntimeCostSettings.from_environment(
        {"REPORT_BUCKET": "r-bucket", "BUCKETS_TO_ANALYSE": "a, b ,,c", "ASSUMED_COLD_FRACTION": "0.3"}
    )
    assert settings.buckets == ["a", "b", "c"] and settings.assumed_cold_fraction == 0.3
    with pytest.raises(InputError, match="ASSUMED_COLD_FRACTION"):
        RuntimeCostSettings.from_environment({"REPORT_BUCKET": "r-bucket", "ASSUMED_COLD_FRACTION": "2"})


def test_finished_training_jobs_read_billable_and_training_seconds():
    class Paginator:
        def paginate(self, **kwargs):
            assert kwargs["StatusEquals"] == "Completed"
            return [{"TrainingJobSummaries": [{"TrainingJobName": "spot-1"}, {"TrainingJobName": "od-1"}]}]

    class SageMaker:
        def get_paginator(self, name):
            assert name == "list_training_jobs"
            return Paginator()

        def describe_training_job(self, TrainingJobName):
            spot = TrainingJobName.startswith("spot")
            return {
                "TrainingJobName": TrainingJobName,
                "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2},
                "TrainingTimeInSeconds": 1000,
                "BillableTimeInSeconds": 250 if spot else 1000,
                "EnableManagedSpotTraining": spot,
            }

    jobs = list(finished_training_jobs(SageMaker(), NOW))
    assert [(j.name, j.spot, j.instance_count, j.billable_seconds) for j in jobs] == [
        ("spot-1", True, 2, 250.0),
        ("od-1", False, 2, 1000.0),
    ]


def test_serverless_variant_gets_cost_per_inference_and_no_rightsizing(aws):
    sm, cw = aws["sagemaker"], aws["cloudwatch"]
    sm.create_model(
        ModelName="churn-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="churn-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "churn-model",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sm.create_endpoint(EndpointName="churn", EndpointConfigName="churn-config")
    _put(cw, "AWS/SageMaker", "Invocations", "churn", [10_000] * 10)
    _put(cw, "AWS/SageMaker", "ModelLatency", "churn", [50_000] * 10, "Microseconds")
    report = run(_settings(), sagemaker=sm, cloudwatch=cw, s3=aws["s3"], now=NOW)
    (cost,) = report["cost_per_inference"]
    # 100,000 invocations x 0.05 s x 2 GB = 10,000 GB-s at $0.00002
    assert cost["window_cost_usd"] == pytest.approx(0.20)
    assert report["rightsizing"] == []

"""Run the synthesized retraining state machine in moto's Step Functions interpreter.

The definition is taken from the CloudFormation template: its `Fn::Join` / `Ref` /
`Fn::GetAtt` tokens are resolved into the fake names and ARNs that the moto resources
created here carry. Lambda tasks run the real handlers in-process (moto's Docker-free
Lambda backend would only echo canned results), chosen by the `Handler` each function has
in the template and with that function's resolved environment.

Three gaps in moto 5.2 are filled with the closest faithful stand-in:
- training jobs finish the moment they are created, always "Completed"; a queue of
  `JobOutcome`s sets each new job's status, failure reason, metrics, billable time and
  how many DescribeTrainingJob calls still see it InProgress;
- `UpdateEndpoint` and `StopTrainingJob` are not implemented; stand-ins record the calls
  and apply their documented effect (the endpoint is Updating for a set number of
  DescribeEndpoint calls, then InService on the new config, or on the old one when the
  scenario rolls back);
- Athena queries succeed at once and carry no failure reason; a queue of `QueryOutcome`s
  sets how many GetQueryExecution calls see each new query RUNNING, how it ends and why.
  An UNLOAD behaves as Athena's does: refused (FAILED) when its target prefix holds
  objects, and when it succeeds a Parquet file appears under that prefix.
Lambda contexts report 1 s of remaining time, so the Athena runner checks its query once
per invocation and the state machine's own Wait/poll loop does the waiting.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.sagemaker.models import FakeTrainingJob, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from lambdas.feature_store.athena_handler import unload_target
from lambdas.feature_store.offline_layout import glue_table_input
from lambdas.feature_store.registry import FeatureGroup

ACCOUNT = "123456789012"
REGION = "eu-west-1"


# ---------------------------------------------------------------------- token resolution
def fake_names(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, "Ref" or attribute) → the value the moto stand-in resource will have."""
    names: dict[tuple[str, str], str] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function":
            names[(logical_id, "Ref")] = logical_id
            names[(logical_id, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
        elif kind == "AWS::IAM::Role":
            names[(logical_id, "Ref")] = logical_id
            names[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        elif kind == "AWS::S3::Bucket":
            names[(logical_id, "Ref")] = logical_id.lower()
            names[(logical_id, "Arn")] = f"arn:aws:s3:::{logical_id.lower()}"
        elif kind == "AWS::SNS::Topic":
            names[(logical_id, "Ref")] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{logical_id}"
            names[(logical_id, "TopicName")] = logical_id
        elif kind == "AWS::DynamoDB::Table":
            names[(logical_id, "Ref")] = logical_id
            names[(logical_id, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{logical_id}"
        elif kind == "AWS::KMS::Key":
            names[(logical_id, "Ref")] = logical_id
            names[(logical_id, "Arn")] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical_id}"
        elif kind == "AWS::StepFunctions::StateMachine":
            names[(logical_id, "Ref")] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
    names[("AWS::Partition", "Ref")] = "aws"
    names[("AWS::Region", "Ref")] = REGION
    names[("AWS::AccountId", "Ref")] = ACCOUNT
    names[("AWS::URLSuffix", "Ref")] = "amazonaws.com"
    return names


def resolve(value: Any, names: dict[tuple[str, str], str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return names[(value["Ref"], "Ref")]
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            return names[(logical_id, attribute)]
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(resolve(p, names)) for p in parts)
        return {k: resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    return value


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _objects_under(uri: str) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _write_parquet(uri: str, execution_id: str) -> None:
    """One result file, named the way Athena names UNLOAD output (`<query id>_<n>`)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    sink = pa.BufferOutputStream()
    # The shape the training-set runner gives: entity key, event time, features, label.
    table = pa.table(
        {
            "card_id": ["c1", "c2", "c3", "c4"],
            "event_time": pa.array([1_767_225_600_000_000 + i for i in range(4)], type=pa.timestamp("us")),
            "amount_1h": [12.5, 80.0, None, 3.25],
            "country": ["DE", "FR", "DE", None],
            "label": [0, 1, 0, 0],
            "query_execution_id": [execution_id] * 4,
        }
    )
    pq.write_table(table, sink)
    boto3.client("s3").put_object(
        Bucket=bucket, Key=f"{prefix}{execution_id}_00000", Body=sink.getvalue().to_pybytes()
    )


# ---------------------------------------------------------------------- scenario control
@dataclass
class JobOutcome:
    """How the next training job created in moto ends."""

    status: str = "Completed"
    failure_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=lambda: {"validation:auc": 0.95})
    billable_seconds: int = 900
    training_seconds: int = 3000
    in_progress_polls: int = 0  # DescribeTrainingJob calls that still see InProgress


@dataclass
class QueryOutcome:
    """How the next Athena query started in moto ends."""

    state: str = "SUCCEEDED"
    reason: str | None = None
    running_polls: int = 0  # GetQueryExecution calls that still see RUNNING


@dataclass
class _RunningQuery:
    polls_left: int
    outcome: QueryOutcome
    target: str | None  # the UNLOAD prefix, if the query is one
    written: bool = False


@dataclass
class Scenario:
    jobs: list[JobOutcome] = field(default_factory=list)
    queries: list[QueryOutcome] = field(default_factory=list)
    started_queries: list[str] = field(default_factory=list)
    _running_queries: dict[str, _RunningQuery] = field(default_factory=dict)
    rollback: bool = False  # the endpoint's alarms roll the update back
    deploy_in_progress_polls: int = 0  # DescribeEndpoint calls that still see Updating
    endpoint_updates: list[dict[str, Any]] = field(default_factory=list)
    stopped_jobs: list[str] = field(default_factory=list)
    _running_jobs: dict[str, tuple[int, str]] = field(default_factory=dict)

    def next_job(self) -> JobOutcome:
        return self.jobs.pop(0) if self.jobs else JobOutcome()


class PipelineHarness:
    """moto stand-ins for every resource the state machines touch, plus the patches."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.names = fake_names(template)
        self.scenario = Scenario()
        self._handler_lock = threading.Lock()
        self.functions = {
            logical_id: (
                resource["Properties"]["Handler"],
                resolve(resource["Properties"].get("Environment", {}).get("Variables", {}), self.names),
            )
            for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
        }

    # -- patches
    def patches(self) -> Iterator[Any]:
        harness = self

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: Any,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            return harness.run_handler(function_name, body, response_headers)

        original_create = SageMakerModelBackend.create_training_job

        def create_training_job(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> FakeTrainingJob:
            job = original_create(backend, *args, **kwargs)
            outcome = harness.scenario.next_job()
            job.training_job_status = outcome.status
            job.secondary_status = outcome.status
            job.failure_reason = outcome.failure_reason  # type: ignore[attr-defined]
            job.final_metric_data_list = [
                {"MetricName": name, "Value": value, "Timestamp": job.creation_time}
                for name, value in outcome.metrics.items()
            ]
            job.billable_time_in_seconds = outcome.billable_seconds  # type: ignore[attr-defined]
            job.training_time_in_seconds = outcome.training_seconds  # type: ignore[attr-defined]
            if outcome.in_progress_polls:
                job.training_job_status = "InProgress"
                harness.scenario._running_jobs[job.training_job_name] = (
                    outcome.in_progress_polls,
                    outcome.status,
                )
            return job

        original_describe_job = SageMakerModelBackend.describe_training_job

        def describe_training_job(backend: SageMakerModelBackend, training_job_name: str) -> dict[str, Any]:
            running = harness.scenario._running_jobs
            if training_job_name in running:
                polls, final = running[training_job_name]
                if polls > 0:
                    running[training_job_name] = (polls - 1, final)
                else:
                    backend.training_jobs[training_job_name].training_job_status = final
                    del running[training_job_name]
            return original_describe_job(backend, training_job_name)

        original_describe_endpoint = SageMakerModelBackend.describe_endpoint

        def describe_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> dict[str, Any]:
            endpoint = backend.endpoints[endpoint_name]
            if endpoint.endpoint_status == "Updating":
                if harness.scenario.deploy_in_progress_polls > 0:
                    harness.scenario.deploy_in_progress_polls -= 1
                else:
                    endpoint.endpoint_status = "InService"
            return original_describe_endpoint(backend, endpoint_name)

        def update_endpoint(response: SageMakerResponse) -> str:
            params = json.loads(response.body)
            harness.scenario.endpoint_updates.append(params)
            endpoint = response.sagemaker_backend.endpoints[params["EndpointName"]]
            if not harness.scenario.rollback:
                endpoint.endpoint_config_name = params["EndpointConfigName"]
            endpoint.endpoint_status = "Updating"
            return json.dumps({"EndpointArn": endpoint.arn})

        def stop_training_job(response: SageMakerResponse) -> str:
            name = json.loads(response.body)["TrainingJobName"]
            harness.scenario.stopped_jobs.append(name)
            response.sagemaker_backend.training_jobs[name].training_job_status = "Stopped"
            return "{}"

        original_start_query = AthenaBackend.start_query_execution

        def start_query_execution(backend: AthenaBackend, query: str, *args: Any, **kwargs: Any) -> str:
            execution_id = original_start_query(backend, query, *args, **kwargs)
            harness.scenario.started_queries.append(query)
            outcome = harness.scenario.queries.pop(0) if harness.scenario.queries else QueryOutcome()
            target = unload_target(query)
            if target is not None and _objects_under(target):
                outcome = QueryOutcome(
                    state="FAILED",
                    reason=f"HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists: {target}",
                )
            harness.scenario._running_queries[execution_id] = _RunningQuery(
                outcome.running_polls, outcome, target
            )
            return execution_id

        original_get_query = AthenaResponse.get_query_execution

        def get_query_execution(response: AthenaResponse) -> str:
            result = json.loads(original_get_query(response))
            execution_id = result["QueryExecution"]["QueryExecutionId"]
            query = harness.scenario._running_queries[execution_id]
            status = result["QueryExecution"]["Status"]
            if query.polls_left > 0:
                query.polls_left -= 1
                status["State"] = "RUNNING"
                return json.dumps(result)
            status["State"] = query.outcome.state
            if query.outcome.reason is not None:
                status["StateChangeReason"] = query.outcome.reason
            if query.outcome.state == "SUCCEEDED" and query.target is not None and not query.written:
                _write_parquet(query.target, execution_id)
                query.written = True
            return json.dumps(result)

        yield mock.patch.object(AthenaBackend, "start_query_execution", start_query_execution)
        yield mock.patch.object(AthenaResponse, "get_query_execution", get_query_execution)
        yield mock.patch.object(LambdaSimpleBackend, "invoke", invoke)
        yield mock.patch.object(SageMakerModelBackend, "create_training_job", create_training_job)
        yield mock.patch.object(SageMakerModelBackend, "describe_training_job", describe_training_job)
        yield mock.patch.object(SageMakerModelBackend, "describe_endpoint", describe_endpoint)
        yield mock.patch.object(SageMakerResponse, "update_endpoint", update_endpoint, create=True)
        yield mock.patch.object(SageMakerResponse, "stop_training_job", stop_training_job, create=True)

    def call(self, name_part: str, event: dict[str, Any]) -> Any:
        """Invoke the function whose logical id contains `name_part` as its event source would."""
        logical_id = next(k for k in self.functions if name_part in k)
        headers: dict[str, str] = {}
        result = json.loads(self.run_handler(logical_id, json.dumps(event), headers))
        if headers:
            raise AssertionError(f"{logical_id} failed: {result}")
        return result

    def run_handler(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        logical_id = function_name.rsplit(":", 1)[-1]
        handler_path, environment = self.functions[logical_id]
        module_name, _, attribute = handler_path.rpartition(".")
        handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
        event = json.loads(body) if body else {}
        context = mock.Mock(
            function_name=logical_id,
            memory_limit_in_mb=256,
            invoked_function_arn=self.names[(logical_id, "Arn")],
            aws_request_id="req",
            get_remaining_time_in_millis=lambda: 1_000,
        )
        with self._handler_lock, mock.patch.dict(os.environ, environment):
            try:
                result = handler(event, context)
            except Exception as err:  # a Lambda turns any uncaught error into FunctionError
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
        return json.dumps(result).encode()

    # -- resources
    def create_feature_groups(self, database: str, *groups: FeatureGroup) -> None:
        """The Glue tables the feature store's Athena runner reads its registry from."""
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": database})
        for group in groups:
            glue.create_table(DatabaseName=database, TableInput=glue_table_input(group, "offline", "offline"))

    def create_resources(self) -> None:
        for logical_id in resources_of(self.template, "AWS::DynamoDB::Table"):
            boto3.client("dynamodb").create_table(
                TableName=logical_id,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        for logical_id in resources_of(self.template, "AWS::S3::Bucket"):
            boto3.client("s3").create_bucket(
                Bucket=logical_id.lower(), CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        for resource in resources_of(self.template, "AWS::SageMaker::ModelPackageGroup").values():
            boto3.client("sagemaker").create_model_package_group(
                ModelPackageGroupName=resource["Properties"]["ModelPackageGroupName"]
            )
        sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        self.inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for logical_id in resources_of(self.template, "AWS::SNS::Topic"):
            arn = sns.create_topic(Name=logical_id)["TopicArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=inbox_arn)
        # Created on first use: moto parses each definition with ANTLR, which is slow.
        self.state_machines: dict[str, str] = {}

    def create_endpoint(self, name: str, variant: str) -> None:
        sagemaker = boto3.client("sagemaker")
        sagemaker.create_model(
            ModelName=f"{name}-v0",
            PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/v0.tar.gz"},
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/model",
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{name}-v0",
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": f"{name}-v0",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v0")

    # -- running
    def state_machine_arn(self, prefix: str) -> str:
        machines = resources_of(self.template, "AWS::StepFunctions::StateMachine")
        logical_id = next(k for k in machines if k.startswith(prefix))
        if logical_id not in self.state_machines:
            definition = resolve(machines[logical_id]["Properties"]["DefinitionString"], self.names)
            self.state_machines[logical_id] = boto3.client("stepfunctions").create_state_machine(
                name=logical_id, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
            )["stateMachineArn"]
        return self.state_machines[logical_id]

    def start(self, prefix: str, name: str, start_input: Any) -> str:
        return boto3.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn(prefix), name=name, input=json.dumps(start_input)
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)  # the interpreter runs in its own thread; this only polls it
        raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")

    def run(self, prefix: str, name: str, start_input: Any) -> dict[str, Any]:
        return self.wait(self.start(prefix, name, start_input))

    def notifications(self) -> list[dict[str, str]]:
        sqs = boto3.client("sqs")
        found: list[dict[str, str]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                body = json.loads(message["Body"])
                found.append({"subject": body.get("Subject", ""), "message": body["Message"]})
                sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])

    def history_states(self, execution_arn: str) -> list[str]:
        events = boto3.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

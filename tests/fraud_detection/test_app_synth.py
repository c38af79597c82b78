"""The example's CDK app synthesizes with cdk-nag AwsSolutions clean, from its own settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fraud_detection.conftest import EXAMPLE_DIR, example_app_module

pytestmark = pytest.mark.synth

SETTINGS = json.loads((EXAMPLE_DIR / "cdk.json").read_text())["context"]["fraud"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import aws_cdk as cdk

    build_app = example_app_module().build_app
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": [], "fraud": SETTINGS})
    # Synth runs cdk-nag (added by build_app); any finding raises ValidationFailed here.
    build_app(app).synth()
    synthesized = dict(json.loads((outdir / f"{SETTINGS['stack_name']}.template.json").read_text()))
    return synthesized | {"outdir": outdir}


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_app_synthesizes_nag_clean(template: dict[str, Any]) -> None:
    assert resources(template, "AWS::SageMaker::Endpoint")
    # Synth raises on any finding; a report, when written, must show no violations either.
    report_path = Path(template["outdir"]) / "validation-report.json"
    reports = json.loads(report_path.read_text())["pluginReports"] if report_path.exists() else []
    assert all(r["conclusion"] == "success" and not r["violations"] for r in reports)


def test_app_fails_synth_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    """Proves the app attaches cdk-nag: one queue without TLS enforcement or DLQ fails the whole synth."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": [], "fraud": SETTINGS})
    example_app_module().build_app(app)
    stack = cdk.Stack.of(app.node.find_child(SETTINGS["stack_name"]))
    sqs.Queue(stack, "Unguarded")
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    [nag] = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    paths = {c["constructPath"] for v in nag["violations"] for c in v["violatingConstructs"]}
    assert paths == {f"{SETTINGS['stack_name']}/Unguarded/Resource"}


def test_api_methods_use_iam_auth_and_body_validation(template: dict[str, Any]) -> None:
    methods = [
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method")
        if m["Properties"]["HttpMethod"] == "POST"
    ]
    assert len(methods) == 2
    assert all(m["AuthorizationType"] == "AWS_IAM" and "RequestValidatorId" in m for m in methods)
    [validator] = resources(template, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True


def test_audit_bucket_has_compliance_object_lock(template: dict[str, Any]) -> None:
    locked = [
        b["Properties"]
        for b in resources(template, "AWS::S3::Bucket")
        if b["Properties"].get("ObjectLockEnabled")
    ]
    [audit] = locked
    rule = audit["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert rule == {"Mode": "COMPLIANCE", "Days": SETTINGS.get("audit_retention_days", 2555)}


def test_review_queue_is_kms_encrypted_with_a_dead_letter_queue(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    review = [
        q["Properties"]
        for q in queues
        if "RedrivePolicy" in q["Properties"] and q["Properties"].get("VisibilityTimeout") == 900
    ]
    assert len(review) == 1 and "KmsMasterKeyId" in review[0]
    assert review[0]["RedrivePolicy"]["maxReceiveCount"] == 5


def test_decision_function_gets_thresholds_and_timeouts_from_the_app_settings(
    template: dict[str, Any],
) -> None:
    functions = [f["Properties"] for f in resources(template, "AWS::Lambda::Function")]
    [decide] = [f for f in functions if f["Handler"] == "fraud_service.handler.handler"]
    env = decide["Environment"]["Variables"]
    assert env["APPROVE_BELOW"] == str(SETTINGS["thresholds"]["approve_below"])
    assert env["BLOCK_AT"] == str(SETTINGS["thresholds"]["block_at"])
    assert env["ENDPOINT_TIMEOUT_MS"] == "200" and env["ENDPOINT_NAME"] == SETTINGS["endpoint_name"]


def test_api_schema_requires_what_the_transaction_model_requires() -> None:
    from fraud_service.infra.api_schema import TRANSACTION_REQUIRED
    from fraud_service.transaction import Transaction

    assert set(TRANSACTION_REQUIRED) == {n for n, f in Transaction.model_fields.items() if f.is_required()}


def test_bad_app_settings_name_the_field() -> None:
    from fraud_service.infra.settings import FraudAppSettings

    with pytest.raises(ValueError, match=r"model_artifact: String should match pattern"):
        FraudAppSettings.parse({**SETTINGS, "model_artifact": "https://example.com/model.tar.gz"})
    with pytest.raises(ValueError, match="thresholds"):
        FraudAppSettings.parse({**SETTINGS, "thresholds": {"approve_below": 0.95, "block_at": 0.5}})


def test_decision_and_label_functions_get_their_own_bundles(template: dict[str, Any]) -> None:
    functions = {
        f["Properties"]["Handler"]: f["Properties"]["Code"]["S3Key"]
        for f in resources(template, "AWS::Lambda::Function")
    }
    assert functions["fraud_service.handler.handler"] != functions["fraud_service.label_handler.handler"]


def _joined(value: Any) -> str:
    """A `Fn::Join` of literals and references as one comparable string."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_joined(p) for p in parts)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def test_performance_monitor_reads_the_labels_the_label_function_writes(template: dict[str, Any]) -> None:
    env = {
        f["Properties"]["Handler"]: f["Properties"]["Environment"]["Variables"]
        for f in resources(template, "AWS::Lambda::Function")
    }
    monitor, labels = (
        env["lambdas.model_monitoring.handler.handler"],
        env["fraud_service.label_handler.handler"],
    )
    assert _joined(monitor["LABELS_URI"]).rstrip("/") == _joined(labels["LABELS_URI"]).rstrip("/")
    assert _joined(monitor["LABELS_URI"]).endswith("/ground-truth/fraud/")
    assert monitor["MODEL_NAME"] == SETTINGS["endpoint_name"]

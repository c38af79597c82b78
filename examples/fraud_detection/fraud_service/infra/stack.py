"""`FraudDetectionStack`: the fraud product on the platform's constructs.

API Gateway (IAM auth, body validation) → decision function (feature store reads,
velocity windows, endpoint call, decision, audit, review queue) → SageMaker endpoint
(`ModelEndpoint`, data capture for monitoring). Reviewers' labels come back through
``POST /labels`` into the ground-truth bucket.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.drift_monitor import DriftMonitor
from constructs_lib.feature_store import FeatureStore
from constructs_lib.model_endpoint import DataCaptureSpec, ModelEndpoint, ScalingSpec, VariantSpec
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from constructs_lib.protected_table import protected_table
from constructs_lib.rest_api import hardened_rest_api
from constructs_lib.secure_bucket import SecureBucket
from fraud_service.audit import PREFIX as AUDIT_PREFIX
from fraud_service.feature_groups import FEATURE_GROUPS
from fraud_service.infra.api_schema import labels_schema, transaction_schema
from fraud_service.infra.product_function import ProductFunction
from fraud_service.infra.settings import FraudAppSettings
from fraud_service.model_features import MODEL_FEATURES
from lambdas.feature_store import settings as feature_env

LABELS_PREFIX = "ground-truth/fraud"
CAPTURE_PREFIX = "data-capture/fraud"
BASELINE_PREFIX = "baselines"


class FraudDetectionStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: FraudAppSettings, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.settings = settings
        self.key = kms.Key(self, "Key", enable_key_rotation=True, description="Fraud detection data and logs")
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com"))

        self.features = FeatureStore(
            self, "Features", feature_groups=FEATURE_GROUPS, key=self.key, glue_database_name="fraud_features"
        )
        self.velocity_state = protected_table(
            self, "VelocityState", key=self.key, partition_key="pk", time_to_live_attribute="ttl"
        )
        # Compliance mode: nobody, root included, can delete or overwrite a decision early.
        self.audit_bucket = SecureBucket(
            self,
            "Audit",
            key=self.key,
            object_lock=True,
            object_lock_retention=s3.ObjectLockRetention.compliance(
                cdk.Duration.days(settings.audit_retention_days)
            ),
            noncurrent_version_retention_days=None,
        ).bucket
        self.monitoring_bucket = SecureBucket(self, "Monitoring", key=self.key).bucket
        self.review_dlq = sqs.Queue(
            self,
            "ReviewDLQ",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.review_dlq, "AwsSolutions-SQS3", "This is the dead-letter queue of the manual-review queue."
        )
        self.review_queue = sqs.Queue(
            self,
            "ReviewQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            visibility_timeout=cdk.Duration.minutes(15),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.review_dlq, max_receive_count=5),
        )
        self.review_dlq_alarm = cloudwatch.Alarm(
            self,
            "ReviewDLQAlarm",
            alarm_description="Transactions for manual review failed processing repeatedly and are in the DLQ",
            metric=self.review_dlq.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        self.endpoint = ModelEndpoint(
            self,
            "Model",
            endpoint_name=settings.endpoint_name,
            image=settings.model_image,
            artifact=settings.model_artifact,
            key=self.key,
            environment={
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            },
            variants=[
                VariantSpec(
                    name="primary",
                    instance_type=settings.instance_type,
                    initial_instance_count=settings.min_instances,
                    scaling=ScalingSpec(
                        min_capacity=settings.min_instances, max_capacity=settings.max_instances
                    ),
                )
            ],
            data_capture=DataCaptureSpec(
                bucket=self.monitoring_bucket,
                prefix=CAPTURE_PREFIX,
                key=self.key,
                sampling_percent=settings.data_capture_percent,
            ),
            latency_slo_ms=settings.latency_slo_ms,
        )
        # Drift of the captured inputs and scores, and AUC/precision/recall from reviewers'
        # labels joined on the inference id (= transaction id).
        self.monitor = DriftMonitor(
            self,
            "Monitor",
            model_name=settings.endpoint_name,
            baseline_bucket=self.monitoring_bucket,
            baseline_key=f"{BASELINE_PREFIX}/{settings.endpoint_name}.json",
            data_bucket=self.monitoring_bucket,
            data_prefix=f"{CAPTURE_PREFIX}/{settings.endpoint_name}",
            results_bucket=self.monitoring_bucket,
            key=self.key,
            endpoint_name=settings.endpoint_name,
            variant_names=["primary"],
            feature_names=MODEL_FEATURES,
            monitored_features=["amount", "amount_ratio_90d", "txn_count_10m", "merchant_risk_score"],
            labels_bucket=self.monitoring_bucket,
            labels_prefix=LABELS_PREFIX,
        )
        self.decision_function = self._decision_function()
        self.label_function = self._label_function()
        self.api = self._api()
        self.fallback_alarm = cloudwatch.Alarm(
            self,
            "FallbackAlarm",
            alarm_description="More than 5% of decisions in 5 minutes fell back to review (feature store or model unavailable)",
            metric=cloudwatch.MathExpression(
                expression="IF(total > 0, 100 * fallback / total, 0)",
                using_metrics={
                    "fallback": cloudwatch.Metric(
                        namespace="FraudDetection",
                        metric_name="FallbackDecisions",
                        statistic="Sum",
                        dimensions_map={"service": "fraud-detection"},
                    ),
                    "total": cloudwatch.Metric(
                        namespace="FraudDetection",
                        metric_name="DecisionLatency",
                        statistic="SampleCount",
                        dimensions_map={"service": "fraud-detection"},
                    ),
                },
                period=cdk.Duration.minutes(5),
            ),
            threshold=5,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "ReviewQueueUrl", value=self.review_queue.queue_url)
        cdk.CfnOutput(self, "LabelsUri", value=f"s3://{self.monitoring_bucket.bucket_name}/{LABELS_PREFIX}/")
        cdk.CfnOutput(
            self,
            "DriftBaselineUri",
            value=f"s3://{self.monitoring_bucket.bucket_name}/{BASELINE_PREFIX}/{settings.endpoint_name}.json",
        )

    def _decision_function(self) -> ProductFunction:
        s = self.settings
        t = s.thresholds
        env = {
            feature_env.ENV_TABLE: self.features.table.table_name,
            feature_env.ENV_GLUE_DATABASE: self.features.glue_database_name,
            "FEATURE_INGESTION_QUEUE_URL": self.features.ingestion_queue.queue_url,
            "VELOCITY_STATE_TABLE": self.velocity_state.table_name,
            "ENDPOINT_NAME": s.endpoint_name,
            "ENDPOINT_TIMEOUT_MS": str(s.endpoint_timeout_ms),
            "FEATURE_DEADLINE_MS": str(s.feature_deadline_ms),
            "AUDIT_BUCKET": self.audit_bucket.bucket_name,
            "REVIEW_QUEUE_URL": self.review_queue.queue_url,
            "APPROVE_BELOW": str(t.approve_below),
            "BLOCK_AT": str(t.block_at),
            "REVIEW_AMOUNT_AT": "off" if t.review_amount_at is None else str(t.review_amount_at),
        }
        fn = ProductFunction(
            self,
            "Decide",
            handler="fraud_service.handler.handler",
            platform_packages=["feature_store", "feature_pipelines"],
            key=self.key,
            environment=env,
            description="Fraud decision: features, velocity, model score, thresholds, audit, review",
            timeout=cdk.Duration.seconds(5),
        )
        role = fn.role
        self.features.grant_read_online(role)
        self.features.ingestion_queue.grant_send_messages(role)
        self.velocity_state.grant(role, "dynamodb:GetItem", "dynamodb:PutItem")
        self.endpoint.grant_invoke(role)
        self.review_queue.grant_send_messages(role)
        audit_objects = self.audit_bucket.arn_for_objects(f"{AUDIT_PREFIX}/*")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[audit_objects])
        )
        self.key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        acknowledge_wildcards(
            role,
            "One audit object per transaction id under the decisions/ prefix; ids are not known in advance.",
            resources=[audit_objects],
        )
        acknowledge_wildcards(
            role,
            "Granted by aws-cdk-lib's queue grant for KMS-encrypted queues: data keys for the queue's CMK only.",
            actions=["kms:GenerateDataKey*", "kms:ReEncrypt*"],
        )
        return fn

    def _label_function(self) -> ProductFunction:
        env = {
            "LABELS_URI": f"s3://{self.monitoring_bucket.bucket_name}/{LABELS_PREFIX}",
            "AUDIT_BUCKET": self.audit_bucket.bucket_name,
        }
        fn = ProductFunction(
            self,
            "Labels",
            handler="fraud_service.label_handler.handler",
            platform_packages=[],
            key=self.key,
            environment=env,
            memory_size=256,
            description="Reviewers' labels to the ground-truth location model monitoring reads",
        )
        audit_objects = self.audit_bucket.arn_for_objects(f"{AUDIT_PREFIX}/*")
        label_objects = self.monitoring_bucket.arn_for_objects(f"{LABELS_PREFIX}/*")
        fn.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[audit_objects])
        )
        fn.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[label_objects])
        )
        self.key.grant(fn.role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        acknowledge_wildcards(
            fn.role,
            "Reads decisions by transaction id and writes one label file per request under fixed prefixes.",
            resources=[audit_objects, label_objects],
        )
        return fn

    def _api(self) -> apigw.RestApi:
        s = self.settings
        rest = hardened_rest_api(
            self,
            rest_api_name="fraud-detection",
            description="Fraud decisions and reviewer labels",
            invalid_request_message="invalid request",
            stage_name="prod",
            rate_limit=s.api_rate_limit,
            burst_limit=s.api_burst_limit,
            log_key=self.key,
            log_retention=logs.RetentionDays.ONE_YEAR,
        )
        api, validator = rest.api, rest.request_validator
        for path, function, schema in (
            ("transactions", self.decision_function, transaction_schema()),
            ("labels", self.label_function, labels_schema()),
        ):
            model = api.add_model(f"{path.capitalize()}Model", content_type="application/json", schema=schema)
            api.root.add_resource(path).add_method(
                "POST",
                apigw.LambdaIntegration(function.function, allow_test_invoke=False),
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_models={"application/json": model},
            )
        acknowledge(
            api,
            "AwsSolutions-COG4",
            "Callers are services and reviewer tools signing with IAM (SigV4), not Cognito users.",
        )
        acknowledge(
            api,
            "AwsSolutions-APIG3",
            "WAF is an account/edge decision; this API is IAM-authorized and stage-throttled.",
        )
        return api

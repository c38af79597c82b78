"""Which pricer handles which CloudFormation type, and which usage fields each type takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lambdas.cost import fixed_pricers as fixed
from lambdas.cost import usage_pricers as usage
from lambdas.cost.cost_line import CostLine
from lambdas.cost.pricing_context import PricingContext

Pricer = Callable[[PricingContext], list[CostLine]]


@dataclass(frozen=True)
class PricerEntry:
    pricer: Pricer
    usage_fields: frozenset[str] = frozenset()


def _entry(pricer: Pricer, *fields: str) -> PricerEntry:
    return PricerEntry(pricer, frozenset(fields))


PRICERS: dict[str, PricerEntry] = {
    "AWS::SageMaker::EndpointConfig": _entry(
        fixed.sagemaker_endpoint_config,
        "instance_count",
        "requests_per_month",
        "avg_duration_ms",
        "avg_payload_kb",
    ),
    "AWS::OpenSearchService::Domain": _entry(fixed.opensearch_domain, "storage_gb"),
    "AWS::Elasticsearch::Domain": _entry(fixed.opensearch_domain, "storage_gb"),
    "AWS::OpenSearchServerless::Collection": _entry(fixed.opensearch_serverless_collection),
    "AWS::KMS::Key": _entry(fixed.kms_key, "requests_per_month"),
    "AWS::CloudWatch::Alarm": _entry(fixed.cloudwatch_alarm),
    "AWS::CloudWatch::CompositeAlarm": _entry(fixed.cloudwatch_composite_alarm),
    "AWS::CloudWatch::Dashboard": _entry(fixed.cloudwatch_dashboard),
    "AWS::Kinesis::Stream": _entry(
        fixed.kinesis_stream, "data_gb_per_month", "requests_per_month", "avg_payload_kb"
    ),
    "AWS::EC2::NatGateway": _entry(fixed.nat_gateway, "data_gb_per_month"),
    "AWS::EC2::VPCEndpoint": _entry(fixed.vpc_endpoint, "data_gb_per_month"),
    "AWS::EC2::EIP": _entry(fixed.elastic_ip),
    "AWS::SecretsManager::Secret": _entry(fixed.secret),
    "AWS::Lambda::Function": _entry(usage.lambda_function, "requests_per_month", "avg_duration_ms"),
    "AWS::DynamoDB::Table": _entry(
        usage.dynamodb_table, "read_units_per_month", "write_units_per_month", "storage_gb"
    ),
    "AWS::DynamoDB::GlobalTable": _entry(
        usage.dynamodb_table, "read_units_per_month", "write_units_per_month", "storage_gb"
    ),
    "AWS::S3::Bucket": _entry(
        usage.s3_bucket,
        "storage_gb",
        "storage_gb_by_class",
        "put_requests_per_month",
        "get_requests_per_month",
    ),
    "AWS::StepFunctions::StateMachine": _entry(
        usage.state_machine, "transitions_per_month", "requests_per_month", "avg_duration_ms"
    ),
    "AWS::ApiGateway::RestApi": _entry(usage.rest_api, "requests_per_month"),
    "AWS::ApiGatewayV2::Api": _entry(usage.http_api, "requests_per_month"),
    "AWS::SQS::Queue": _entry(usage.sqs_queue, "requests_per_month"),
    "AWS::SNS::Topic": _entry(usage.sns_topic, "requests_per_month"),
    "AWS::Logs::LogGroup": _entry(usage.log_group, "data_gb_per_month", "storage_gb"),
    "AWS::Glue::Job": _entry(usage.glue_job, "dpu_hours_per_month", "run_hours_per_month"),
    "AWS::Glue::Crawler": _entry(usage.glue_job, "dpu_hours_per_month"),
    "AWS::KinesisFirehose::DeliveryStream": _entry(usage.firehose, "data_gb_per_month"),
    "AWS::SageMaker::FeatureGroup": _entry(
        usage.feature_group, "read_units_per_month", "write_units_per_month", "storage_gb"
    ),
}

# Types with no charge of their own (their cost shows up on another resource, or is zero).
FREE_TYPES: dict[str, str] = {
    "AWS::CDK::Metadata": "synthesis metadata",
    "AWS::SageMaker::Endpoint": "priced through its AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Model": "priced through the endpoint config that hosts it",
    "AWS::SageMaker::ModelPackageGroup": "registry entries have no charge",
    "AWS::SageMaker::ModelPackage": "registry entries have no charge",
    "AWS::SageMaker::Pipeline": "charged through the jobs it runs",
    "AWS::KMS::Alias": "aliases have no charge",
    "AWS::SNS::Subscription": "charged through the topic's deliveries",
    "AWS::SNS::TopicPolicy": "policy",
    "AWS::SQS::QueuePolicy": "policy",
    "AWS::S3::BucketPolicy": "policy",
    "AWS::Events::Rule": "rules on the default bus have no charge",
    "AWS::Scheduler::Schedule": "first 14 million invocations a month are free",
    "AWS::Budgets::Budget": "the first two action-free budgets per account are free; further ones cost $0.02/day",
    "AWS::Glue::Database": "catalog objects: first million free",
    "AWS::Glue::Table": "catalog objects: first million free",
    "AWS::Glue::SecurityConfiguration": "configuration",
    "AWS::SSM::Parameter": "standard parameters are free",
    "AWS::Logs::MetricFilter": "charged as the metric it emits",
    "AWS::Logs::SubscriptionFilter": "charged through its destination",
    "AWS::Logs::ResourcePolicy": "policy",
    "AWS::EC2::VPC": "no charge",
    "AWS::EC2::Subnet": "no charge",
    "AWS::EC2::RouteTable": "no charge",
    "AWS::EC2::Route": "no charge",
    "AWS::EC2::SubnetRouteTableAssociation": "no charge",
    "AWS::EC2::InternetGateway": "no charge",
    "AWS::EC2::VPCGatewayAttachment": "no charge",
    "AWS::EC2::SecurityGroup": "no charge",
    "AWS::EC2::SecurityGroupIngress": "no charge",
    "AWS::EC2::SecurityGroupEgress": "no charge",
    "AWS::EC2::FlowLog": "charged through its log group",
    "AWS::ApplicationAutoScaling::ScalableTarget": "no charge",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "no charge (its alarms are priced separately)",
    "AWS::StepFunctions::Activity": "no charge",
    "AWS::ApiGateway::Deployment": "charged through the API's requests",
    "AWS::ApiGateway::Stage": "charged through the API's requests",
    "AWS::ApiGateway::Resource": "charged through the API's requests",
    "AWS::ApiGateway::Method": "charged through the API's requests",
    "AWS::ApiGateway::Account": "no charge",
    "AWS::ApiGateway::Authorizer": "charged through its function",
    "AWS::ApiGateway::RequestValidator": "no charge",
    "AWS::ApiGateway::Model": "no charge",
    "AWS::ApiGateway::UsagePlan": "no charge",
    "AWS::ApiGateway::UsagePlanKey": "no charge",
    "AWS::ApiGateway::ApiKey": "no charge",
    "AWS::ApiGatewayV2::Stage": "charged through the API's requests",
    "AWS::ApiGatewayV2::Route": "charged through the API's requests",
    "AWS::ApiGatewayV2::Integration": "charged through the API's requests",
    "AWS::Lambda::Permission": "no charge",
    "AWS::Lambda::EventSourceMapping": "charged through the function's invocations",
    "AWS::Lambda::Version": "charged through the function",
    "AWS::Lambda::Alias": "charged through the function",
    "AWS::Lambda::LayerVersion": "no charge",
    "AWS::Lambda::EventInvokeConfig": "no charge",
    "AWS::OpenSearchServerless::SecurityPolicy": "policy",
    "AWS::OpenSearchServerless::AccessPolicy": "policy",
    "AWS::CloudFormation::WaitConditionHandle": "no charge",
    "AWS::Cognito::UserPoolClient": "no charge",
    "AWS::Cognito::UserPoolDomain": "no charge",
    "AWS::ApiGateway::GatewayResponse": "no charge",
    "AWS::ApiGateway::DocumentationPart": "no charge",
    "AWS::Lambda::Url": "charged through the function",
    "AWS::Athena::WorkGroup": "charged per TB its queries scan",
    "AWS::Glue::Trigger": "charged through the job it starts",
    "AWS::SageMaker::MonitoringSchedule": "charged through the processing jobs it runs",
    "AWS::EC2::NetworkAcl": "no charge",
    "AWS::EC2::NetworkAclEntry": "no charge",
    "AWS::EC2::SubnetNetworkAclAssociation": "no charge",
    "AWS::Events::EventBus": "custom events: $1 per million published",
    "AWS::Pipes::Pipe": "charged per request it moves",
}

# Types with a real charge that the catalog cannot price from a template and usage file.
UNPRICED_TYPES: dict[str, str] = {
    "AWS::Kinesis::StreamConsumer": "enhanced fan-out is billed per consumer-shard-hour and GB read: not in the catalog",
    "AWS::Cognito::UserPool": "billed per monthly active user beyond the free tier: not in the catalog",
    "AWS::ECR::Repository": "billed per GB of images stored: not in the catalog",
    "AWS::SageMaker::Domain": "billed through the apps and spaces users start",
}

FREE_PREFIXES: dict[str, str] = {
    "AWS::IAM::": "IAM has no charge",
    "Custom::": "custom resource: its cost is its backing function",
    "AWS::CloudFormation::CustomResource": "custom resource: its cost is its backing function",
}


def usage_fields_by_type() -> dict[str, frozenset[str]]:
    return {
        resource_type: entry.usage_fields for resource_type, entry in PRICERS.items() if entry.usage_fields
    }


def free_reason(resource_type: str) -> str | None:
    if resource_type in FREE_TYPES:
        return FREE_TYPES[resource_type]
    for prefix, reason in FREE_PREFIXES.items():
        if resource_type.startswith(prefix):
            return reason
    return None

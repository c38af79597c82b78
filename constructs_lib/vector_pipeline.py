"""`EmbeddingPipeline` (SQS -> chunk -> embed -> bulk index) and `VectorSearchFunction`.

Both functions run in the domain's VPC and reach it over HTTPS through the domain security
group; their roles get IAM access to the domain and an FGAC role mapping through KnnIndex.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction
from constructs_lib.vector_index import KnnIndex
from constructs_lib.vector_search import VectorSearchDomain

NUMPY = "numpy>=2.0,<3"
EmbeddingProvider = Literal["sagemaker", "bedrock"]


def grant_embedding(role: iam.IRole, provider: EmbeddingProvider, model: str) -> None:
    """Invoke permission on exactly the SageMaker endpoint or Bedrock foundation model named."""
    stack = cdk.Stack.of(role)
    if provider == "sagemaker":
        arn = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=model.lower())
        actions = ["sagemaker:InvokeEndpoint"]
    else:
        arn = stack.format_arn(
            service="bedrock", account="", resource="foundation-model", resource_name=model
        )
        actions = ["bedrock:InvokeModel"]
    add_statement(role, iam.PolicyStatement(actions=actions, resources=[arn]))


class EmbeddingPipeline(Construct):
    """An encrypted queue of documents feeding the embedding function for one index.

    Message body: {"doc_id": "...", "text": "...", "metadata": {...}}. Failed messages are
    retried alone (partial batch responses) and land in `dead_letter_queue` after
    `max_receive_count` attempts.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: VectorSearchDomain,
        index: KnnIndex,
        vpc: ec2.IVpc,
        queue_key: kms.IKey,
        embedding_provider: EmbeddingProvider,
        embedding_model: str,
        log_key: kms.IKey | None = None,
        max_tokens: int = 256,
        overlap_tokens: int = 32,
        embed_batch_size: int = 16,
        batch_size: int = 10,
        max_batching_window: cdk.Duration | None = None,
        max_concurrency: int = 5,
        max_receive_count: int = 5,
        timeout: cdk.Duration | None = None,
        subnet_type: ec2.SubnetType = ec2.SubnetType.PRIVATE_WITH_EGRESS,
    ) -> None:
        super().__init__(scope, construct_id)
        if overlap_tokens >= max_tokens:
            raise ValueError(f"overlap_tokens ({overlap_tokens}) must be below max_tokens ({max_tokens})")
        function_timeout = timeout or durations.minutes(2)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=queue_key,
            enforce_ssl=True,
            retention_period=durations.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=queue_key,
            enforce_ssl=True,
            # AWS guidance: at least six times the function timeout, so retries within an
            # invocation never race a redelivery.
            visibility_timeout=durations.seconds(durations.in_seconds(function_timeout) * 6),
            retention_period=durations.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
        )
        self.function = PlatformFunction(
            self,
            "Function",
            handler="lambdas.vector_search.ingest_handler.handler",
            domains=["vector_search"],
            description=f"Chunks, embeds and indexes documents into k-NN index '{index.alias}'",
            environment={
                "INDEX_SPEC": index.spec.model_dump_json(),
                "EMBEDDING_PROVIDER": embedding_provider,
                "EMBEDDING_MODEL": embedding_model,
                "CHUNK_MAX_TOKENS": str(max_tokens),
                "CHUNK_OVERLAP_TOKENS": str(overlap_tokens),
                "EMBED_BATCH_SIZE": str(embed_batch_size),
                "OPENSEARCH_ENDPOINT": domain.domain.domain_endpoint,
            },
            timeout=function_timeout,
            memory_size=512,
            key=log_key,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=subnet_type),
        )
        domain.allow_https_from(self.function.function)
        index.grant_write(self.function.role)
        grant_embedding(self.function.role, embedding_provider, embedding_model)
        self.function.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=batch_size,
                max_batching_window=max_batching_window or durations.seconds(5),
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )

    def grant_send(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let a producer enqueue documents (and use the queue key)."""
        return self.queue.grant_send_messages(grantee)


class VectorSearchFunction(Construct):
    """The search function (API Gateway proxy handler) over one or more KnnIndex resources.

    With `embedding_provider` / `embedding_model` (the model that embedded the documents)
    callers may send query text instead of a vector.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: VectorSearchDomain,
        indices: Sequence[KnnIndex],
        vpc: ec2.IVpc,
        log_key: kms.IKey | None = None,
        default_oversample: int = 4,
        max_k: int = 100,
        memory_size: int = 1024,
        subnet_type: ec2.SubnetType = ec2.SubnetType.PRIVATE_WITH_EGRESS,
        embedding_provider: EmbeddingProvider | None = None,
        embedding_model: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not indices:
            raise ValueError("VectorSearchFunction needs at least one KnnIndex")
        if (embedding_provider is None) != (embedding_model is None):
            raise ValueError("embedding_provider and embedding_model go together (text queries need both)")
        embedding_env = (
            {"EMBEDDING_PROVIDER": embedding_provider, "EMBEDDING_MODEL": embedding_model}
            if embedding_provider and embedding_model
            else {}
        )
        stack = cdk.Stack.of(self)
        self.function = PlatformFunction(
            self,
            "Function",
            handler="lambdas.vector_search.search_handler.handler",
            domains=["vector_search"],
            # numpy re-ranks candidates exactly; scipy is not needed, so no analysis layer.
            requirements=(POWERTOOLS, PYDANTIC, NUMPY),
            description="k-NN search with exact re-ranking and merge across indices",
            environment={
                "INDEX_SPECS": stack.to_json_string([i.spec.model_dump(mode="json") for i in indices]),
                "DEFAULT_OVERSAMPLE": str(default_oversample),
                "MAX_K": str(max_k),
                "OPENSEARCH_ENDPOINT": domain.domain.domain_endpoint,
                **embedding_env,
            },
            timeout=durations.seconds(29),
            memory_size=memory_size,
            key=log_key,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=subnet_type),
        )
        domain.allow_https_from(self.function.function)
        for index in indices:
            index.grant_read(self.function.role)
        if embedding_provider and embedding_model:
            grant_embedding(self.function.role, embedding_provider, embedding_model)

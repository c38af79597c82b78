"""Vector search stack: the OpenSearch k-NN domain, its indices as code, embedding and search."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from constructs_lib.vector_api import VectorSearchApi
from constructs_lib.vector_index import KnnIndex
from constructs_lib.vector_pipeline import EmbeddingPipeline, VectorSearchFunction
from constructs_lib.vector_search import VectorSearchDomain
from lambdas.vector_search.index_spec import HnswParameters, IndexSpec, Lifecycle
from stacks.config.models import PlatformConfig, VectorIndex
from stacks.foundation_stack import FoundationStack


def index_spec(index: VectorIndex) -> IndexSpec:
    return IndexSpec(
        name=index.name,
        dimension=index.dimension,
        engine=index.engine,  # type: ignore[arg-type]
        space_type=index.space_type,  # type: ignore[arg-type]
        hnsw=HnswParameters(
            m=index.hnsw.m, ef_construction=index.hnsw.ef_construction, ef_search=index.hnsw.ef_search
        ),
        shards=index.shards,
        replicas=index.replicas,
        metadata=dict(index.metadata_fields),  # type: ignore[arg-type]
        lifecycle=Lifecycle(
            warm_after_days=index.warm_after_days,
            cold_after_days=index.cold_after_days,
            delete_after_days=index.delete_after_days,
            timestamp_field=index.timestamp_field,
        ),
        on_incompatible_change="new_index_and_alias_swap" if index.allow_reindex else "refuse",
    )


class VectorSearchStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: str,
        foundation: FoundationStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        settings = config.vector_domain
        self.domain = VectorSearchDomain(
            self,
            "Domain",
            vpc=foundation.vpc,
            key=foundation.data_key,
            log_key=foundation.ops_key,
            alarm_topic=foundation.alarm_topic,
            domain_name=f"{config.name}-{environment}-vectors"[:28],
            engine_version=opensearch.EngineVersion.open_search(
                settings.engine_version.removeprefix("OpenSearch_")
            ),
            data_node_instance_type=settings.data_node_type,
            data_nodes=settings.data_nodes,
            volume_size_gb=settings.volume_size_gb,
            dedicated_master=settings.dedicated_master,
            master_node_instance_type=settings.master_node_type,
            master_nodes=settings.master_nodes,
            zone_awareness=settings.zone_awareness,
            availability_zone_count=min(2, len(foundation.availability_zones)),
            warm_node_instance_type=settings.ultrawarm_node_type,
            warm_nodes=settings.ultrawarm_nodes,
            cold_storage=settings.cold_storage,
        )
        self.indices: dict[str, KnnIndex] = {}
        self.pipelines: dict[str, EmbeddingPipeline] = {}
        for index in config.vector_indexes:
            knn = KnnIndex(self, f"Index-{index.name}", domain=self.domain, spec=index_spec(index))
            cdk.Tags.of(knn).add("team", index.team)
            self.indices[index.name] = knn
            embedding = index.embedding
            self.pipelines[index.name] = EmbeddingPipeline(
                self,
                f"Embedding-{index.name}",
                domain=self.domain,
                index=knn,
                vpc=foundation.vpc,
                queue_key=foundation.ops_key,
                log_key=foundation.ops_key,
                embedding_provider=embedding.provider,
                embedding_model=(
                    embedding.endpoint_name if embedding.provider == "sagemaker" else embedding.model_id
                )
                or "",
                max_tokens=embedding.max_tokens_per_chunk,
                overlap_tokens=embedding.overlap_tokens,
            )
        if self.indices:
            self.search = VectorSearchFunction(
                self,
                "Search",
                domain=self.domain,
                indices=list(self.indices.values()),
                vpc=foundation.vpc,
                log_key=foundation.ops_key,
            )
            self.api = VectorSearchApi(
                self,
                "SearchApi",
                search=self.search,
                log_key=foundation.ops_key,
                rate_limit=config.prediction_api.rate_limit,
                burst_limit=config.prediction_api.burst_limit,
            )

"""Pydantic models of the platform config file.

Every model forbids unknown keys so that a typo is an error, not a silently ignored
setting. Cross-references (a model's team, a model's feature groups, ...) are checked in
`stacks.config.references` after parsing, so that each problem names its own field.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from stacks.config.instance_types import check_opensearch_instance_type, check_sagemaker_instance_type

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$")

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="lower-case letters, digits and '-'")]
Identifier = Annotated[
    str, Field(pattern=IDENTIFIER_PATTERN, description="lower-case letters, digits and '_'")
]
SageMakerInstanceType = Annotated[str, AfterValidator(check_sagemaker_instance_type)]
OpenSearchInstanceType = Annotated[str, AfterValidator(check_opensearch_instance_type)]


def duration_seconds(value: str) -> int:
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"duration {value!r} must be a number followed by s, m, h or d (e.g. '30m', '1d')")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _check_duration(value: str) -> str:
    if duration_seconds(value) <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return value


def _check_schedule(value: str) -> str:
    if not _SCHEDULE.match(value):
        raise ValueError(f"schedule {value!r} must be 'rate(N minutes|hours|days)' or 'cron(...)'")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
Schedule = Annotated[str, AfterValidator(_check_schedule)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------- environments
class VpcConfig(Strict):
    cidr: str = Field(default="10.40.0.0/16", pattern=r"^\d+\.\d+\.\d+\.\d+/\d+$")
    max_azs: int = Field(default=2, ge=2, le=6)
    nat_gateways: int = Field(default=1, ge=0, le=6)
    availability_zones: list[str] | None = Field(
        default=None, description="AZ names; default: the region's first max_azs zones (a, b, c, ...)"
    )


class Environment(Strict):
    name: Name
    account: str = Field(pattern=r"^\d{12}$", description="12-digit AWS account id")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    vpc: VpcConfig = VpcConfig()
    alarm_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @property
    def availability_zones(self) -> list[str]:
        """Named in config or derived, so synth never looks them up in the account."""
        if self.vpc.availability_zones:
            return list(self.vpc.availability_zones)
        return [f"{self.region}{letter}" for letter in "abcdef"[: self.vpc.max_azs]]

    @model_validator(mode="after")
    def _zones_in_region(self) -> Environment:
        for zone in self.vpc.availability_zones or []:
            if not (zone.startswith(self.region) and len(zone) == len(self.region) + 1):
                raise ValueError(f"vpc.availability_zones: {zone!r} is not a zone of region {self.region}")
        if self.vpc.availability_zones and len(self.vpc.availability_zones) < self.vpc.max_azs:
            raise ValueError("vpc.availability_zones lists fewer zones than vpc.max_azs")
        return self


class Team(Strict):
    name: Name
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    cost_center: str | None = None


# ----------------------------------------------------------------------------- feature store
FeatureDtype = Literal["int64", "float64", "bool", "string"]


class Feature(Strict):
    name: Identifier
    dtype: FeatureDtype
    max_age: Duration = "1d"
    nullable: bool = True
    description: str = ""


class OfflineStorage(Strict):
    infrequent_access_after_days: int = Field(default=30, ge=30)
    glacier_after_days: int | None = Field(default=180, ge=90)
    expire_after_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> OfflineStorage:
        if (
            self.glacier_after_days is not None
            and self.glacier_after_days <= self.infrequent_access_after_days
        ):
            raise ValueError("glacier_after_days must be greater than infrequent_access_after_days")
        last = self.glacier_after_days or self.infrequent_access_after_days
        if self.expire_after_days is not None and self.expire_after_days <= last:
            raise ValueError("expire_after_days must be after every storage-class transition")
        return self


class Aggregation(Strict):
    name: Identifier
    function: Literal["count", "sum", "mean", "min", "max", "distinct_count"]
    column: Identifier | None = None

    @model_validator(mode="after")
    def _column_needed(self) -> Aggregation:
        if self.function != "count" and self.column is None:
            raise ValueError(f"aggregation {self.name!r} with function {self.function} needs a column")
        return self


class BatchSource(Strict):
    """A Spark batch job that computes this group's features from data in S3 / Glue."""

    source_path: str = Field(
        pattern=r"^s3://[a-z0-9.\-]+(/.*)?$", description="where the source table's files live"
    )
    source_database: str = Field(min_length=1, description="Glue database of the source table")
    source_table: str = Field(min_length=1, description="Glue table the job reads (job bookmarks track it)")
    timestamp_column: Identifier = "event_time"
    aggregations: list[Aggregation] = Field(min_length=1)
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    number_of_workers: int = Field(default=2, ge=2, le=299)


class FeatureGroup(Strict):
    name: Identifier
    entity_key: Identifier
    owner: Name = Field(description="team that owns the group")
    schema_version: int = Field(default=1, ge=1)
    description: str = ""
    features: list[Feature] = Field(min_length=1)
    batch: BatchSource | None = None
    materialization_schedule: Schedule | None = Field(
        default="rate(1 day)", description="offline → online materialization of a batch group"
    )

    @field_validator("features")
    @classmethod
    def _unique_features(cls, features: list[Feature]) -> list[Feature]:
        _no_duplicates([f.name for f in features], "feature")
        return features


class FeatureStoreSettings(Strict):
    offline: OfflineStorage = OfflineStorage()
    ingestion_batch_size: int = Field(default=10, ge=1, le=10000)


class StreamingWindow(Strict):
    feature: Identifier
    function: Literal["count", "sum", "mean", "distinct_count"]
    column: Identifier | None = None
    window: Duration

    @model_validator(mode="after")
    def _column_needed(self) -> StreamingWindow:
        if self.function != "count" and self.column is None:
            raise ValueError(f"window feature {self.feature!r} with function {self.function} needs a column")
        return self


class StreamingSource(Strict):
    name: Name
    feature_group: Identifier
    entity_key: Identifier
    event_time_field: Identifier = "event_time"
    event_id_field: Identifier = "event_id"
    allowed_lateness: Duration = "5m"
    windows: list[StreamingWindow] = Field(min_length=1)
    enhanced_fan_out: bool = False


# ----------------------------------------------------------------------------- serving
class ServerlessConfig(Strict):
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(default=20, ge=1, le=200)
    provisioned_concurrency: int | None = Field(default=None, ge=1)


class ScheduledScaling(Strict):
    name: Name
    schedule: Schedule
    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1)


class ScalingConfig(Strict):
    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_invocations_per_instance: int = Field(default=1000, ge=1)
    target_latency_ms: float | None = Field(default=None, gt=0)
    scale_in_cooldown: Duration = "5m"
    scale_out_cooldown: Duration = "1m"
    scheduled: list[ScheduledScaling] = []

    @model_validator(mode="after")
    def _min_le_max(self) -> ScalingConfig:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity {self.min_capacity} is above max_capacity {self.max_capacity}")
        return self


class Variant(Strict):
    name: Name
    weight: float = Field(default=1.0, ge=0)
    model_artifact: str | None = Field(default=None, description="overrides the model's artifact")
    instance_type: SageMakerInstanceType | None = None
    initial_instance_count: int | None = Field(default=None, ge=1)
    serverless: ServerlessConfig | None = None
    scaling: ScalingConfig | None = None

    @model_validator(mode="after")
    def _instance_or_serverless(self) -> Variant:
        instance_settings = [
            k for k in ("instance_type", "initial_instance_count", "scaling") if getattr(self, k) is not None
        ]
        if self.serverless is not None and instance_settings:
            raise ValueError(
                f"variant {self.name!r} is serverless but also sets {', '.join(instance_settings)}; "
                "remove them or remove 'serverless'"
            )
        if self.serverless is None and self.instance_type is None:
            raise ValueError(f"variant {self.name!r} needs either instance_type or serverless")
        return self


class DeploymentPolicy(Strict):
    strategy: Literal["canary", "linear", "all_at_once"] = "canary"
    canary_percent: int = Field(default=10, ge=1, le=50)
    linear_step_percent: int = Field(default=20, ge=5, le=50)
    wait_interval: Duration = "5m"
    termination_wait: Duration = "5m"
    max_execution_time: Duration = "1h"
    auto_rollback: bool = True


class DataCaptureConfig(Strict):
    enabled: bool = True
    sampling_percent: int = Field(default=20, ge=0, le=100)


class InputFeature(Strict):
    name: Identifier
    type: Literal["number", "integer", "string", "boolean"] = "number"
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True


class ServingConfig(Strict):
    variants: list[Variant] = Field(min_length=1)
    latency_slo_ms: float | None = Field(default=None, gt=0)
    deployment: DeploymentPolicy = DeploymentPolicy()
    data_capture: DataCaptureConfig = DataCaptureConfig()
    cache_ttl: Duration = Field(
        default="5m", description="the API of a shard uses the shortest TTL of its models"
    )
    inputs: list[InputFeature] = Field(min_length=1, description="request schema of the prediction API")

    @model_validator(mode="after")
    def _check(self) -> ServingConfig:
        _no_duplicates([v.name for v in self.variants], "variant")
        if sum(v.weight for v in self.variants) <= 0:
            raise ValueError("variant weights must sum to a positive value")
        if self.deployment.auto_rollback and self.latency_slo_ms is None:
            raise ValueError(
                "latency_slo_ms is required when deployment.auto_rollback is on "
                "(the rollback alarm watches p99 latency against it)"
            )
        return self


class PredictionApiSettings(Strict):
    """The prediction API in front of each serving shard (IAM-authorised, throttled by usage plan)."""

    rate_limit: float = Field(default=100, gt=0, description="steady requests per second")
    burst_limit: int = Field(default=200, ge=1)
    daily_quota: int | None = Field(default=None, ge=1)


# ----------------------------------------------------------------------------- training
class ObjectiveMetric(Strict):
    name: str = Field(min_length=1)
    direction: Literal["maximize", "minimize"] = "maximize"
    margin: float = Field(default=0.0, ge=0)
    regex: str | None = Field(default=None, description="regex that extracts the metric from training logs")


class TrainingConfig(Strict):
    image: str = Field(min_length=1)
    instance_type: SageMakerInstanceType = "ml.m5.xlarge"
    instance_count: int = Field(default=1, ge=1, le=100)
    volume_size_gb: int = Field(default=30, ge=1, le=16384)
    spot: bool = True
    max_runtime: Duration = "2h"
    max_wait: Duration = "4h"
    hyperparameters: dict[str, str] = {}
    objective: ObjectiveMetric
    approval: Literal["automatic", "manual"] = "automatic"
    approval_timeout: Duration = "3d"
    labels_table: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,254}\.[a-z][a-z0-9_]{0,254}$",
        description='"database.table" in the Glue catalog: labelled entity rows (entity id per feature '
        "group, timestamp, label columns) joined point-in-time to the model's feature_groups",
    )
    label_timestamp_column: Identifier = Field(
        default="event_time", description="TIMESTAMP (UTC) column of labels_table"
    )
    label_columns: list[Identifier] = Field(
        default=["label"],
        min_length=1,
        description="label column(s) of labels_table; left out of the drift baseline",
    )
    labels_location: str = Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$",
        description="s3:// location of labels_table's files, which the training-set query reads",
    )

    @model_validator(mode="after")
    def _wait_above_runtime(self) -> TrainingConfig:
        if self.spot and duration_seconds(self.max_wait) <= duration_seconds(self.max_runtime):
            raise ValueError(
                f"max_wait ({self.max_wait}) must be greater than max_runtime ({self.max_runtime}) for spot training"
            )
        return self


class RetrainingConfig(Strict):
    on_drift: bool = True
    schedule: Schedule | None = None


class EffectRule(Strict):
    """A feature drifts when this effect size exceeds the threshold (large samples)."""

    effect: Literal["wasserstein", "psi", "js_distance", "ks_statistic", "linf"]
    threshold: float = Field(gt=0)


class MonitoringConfig(Strict):
    """Drift monitoring: hypothesis tests on small samples, effect sizes on large ones."""

    drift_schedule: Schedule = "rate(1 hour)"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    correction: Literal["holm", "bh", "none"] = "holm"
    min_rows: int = Field(default=20, ge=2)
    min_drift_share: float = Field(
        default=0.0, ge=0, le=1, description="share of drifted features that flags the model"
    )
    numeric_rule: EffectRule = EffectRule(effect="wasserstein", threshold=0.1)
    categorical_rule: EffectRule = EffectRule(effect="linf", threshold=0.05)
    feature_rules: dict[str, EffectRule] = {}

    @model_validator(mode="after")
    def _effects(self) -> MonitoringConfig:
        if self.numeric_rule.effect == "linf":
            raise ValueError("numeric_rule.effect linf applies to categorical features only")
        if self.categorical_rule.effect in ("wasserstein", "ks_statistic"):
            raise ValueError(
                f"categorical_rule.effect {self.categorical_rule.effect} applies to numeric features only"
            )
        return self

    def drift_config(self) -> dict[str, object]:
        """The drift function's DRIFT_CONFIG."""
        return self.model_dump(exclude={"drift_schedule"})


class ExperimentMetric(Strict):
    name: Identifier
    type: Literal["mean", "proportion", "ratio"] = "mean"
    guardrail: bool = False
    margin: float = Field(default=0.0, ge=0, description="non-inferiority margin of a guardrail")
    margin_type: Literal["relative", "absolute"] = "relative"
    higher_is_better: bool = True


class ExperimentConfig(Strict):
    name: Name
    control: Name
    start_time: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$", description="UTC start, e.g. 2026-12-01T00:00Z"
    )
    metrics: list[ExperimentMetric] = Field(min_length=1)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    sequential: bool = True
    planned_sample: int | None = Field(
        default=None, ge=2, description="per-variant sample the test is planned for"
    )
    schedule: Annotated[str, Field(pattern=r"^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$")] = (
        "rate(1 hour)"
    )
    auto_shift: bool = False
    ramp_percent: list[int] = [10, 50, 100]


class ModelConfig(Strict):
    name: Name
    team: Name
    image: str = Field(min_length=1, description="inference container image URI")
    artifact: str = Field(pattern=r"^s3://[a-z0-9.\-]+/.+", description="s3:// URI of model.tar.gz")
    feature_groups: list[Identifier] = []
    serving: ServingConfig
    training: TrainingConfig | None = None
    retraining: RetrainingConfig = RetrainingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    experiment: ExperimentConfig | None = None

    @model_validator(mode="after")
    def _training_set_has_features(self) -> ModelConfig:
        if self.training is not None and not self.feature_groups:
            raise ValueError("training builds its training set from feature_groups: list at least one")
        return self


# ----------------------------------------------------------------------------- vector search
class HnswConfig(Strict):
    """HNSW parameters; the defaults come from bench/vector.py (see docs/vector-search.md)."""

    m: int = Field(default=48, ge=2, le=100)
    ef_construction: int = Field(default=256, ge=2, le=4096)
    ef_search: int = Field(default=768, ge=2, le=10000)


class EmbeddingConfig(Strict):
    provider: Literal["sagemaker", "bedrock"] = "bedrock"
    endpoint_name: str | None = None
    model_id: str | None = "amazon.titan-embed-text-v2:0"
    max_tokens_per_chunk: int = Field(default=256, ge=16, le=8192)
    overlap_tokens: int = Field(default=32, ge=0)

    @model_validator(mode="after")
    def _provider_target(self) -> EmbeddingConfig:
        if self.provider == "sagemaker" and not self.endpoint_name:
            raise ValueError("provider sagemaker needs endpoint_name")
        if self.provider == "bedrock" and not self.model_id:
            raise ValueError("provider bedrock needs model_id")
        if self.overlap_tokens >= self.max_tokens_per_chunk:
            raise ValueError("overlap_tokens must be smaller than max_tokens_per_chunk")
        return self


class VectorIndex(Strict):
    name: Name
    team: Name
    dimension: int = Field(ge=1, le=16000)
    engine: Literal["faiss", "lucene"] = "faiss"
    space_type: Literal["l2", "innerproduct", "cosinesimil"] = "l2"
    hnsw: HnswConfig = HnswConfig()
    shards: int = Field(default=2, ge=1, le=100)
    replicas: int = Field(default=1, ge=0, le=5)
    metadata_fields: dict[
        Identifier, Literal["keyword", "text", "integer", "long", "float", "double", "date", "boolean"]
    ] = {}
    embedding: EmbeddingConfig = EmbeddingConfig()
    warm_after_days: int | None = Field(default=None, ge=1)
    cold_after_days: int | None = Field(default=None, ge=1)
    delete_after_days: int | None = Field(default=None, ge=1)
    timestamp_field: Identifier | None = Field(
        default=None, description="date metadata field cold storage keys on"
    )
    allow_reindex: bool = Field(
        default=False,
        description="allow a change that needs a new index (dimension, engine, ...) via alias swap",
    )

    @model_validator(mode="after")
    def _engine_space(self) -> VectorIndex:
        if self.engine == "faiss" and self.space_type == "cosinesimil":
            raise ValueError(
                "engine faiss does not accept space_type cosinesimil; use engine lucene for cosine"
            )
        return self


class VectorDomain(Strict):
    engine_version: str = "OpenSearch_2.19"
    data_node_type: OpenSearchInstanceType = "r6g.large.search"
    data_nodes: int = Field(default=2, ge=1, le=80)
    dedicated_master: bool = True
    master_node_type: OpenSearchInstanceType = "m6g.large.search"
    master_nodes: int = Field(default=3, ge=3, le=5)
    zone_awareness: bool = True
    volume_size_gb: int = Field(default=100, ge=10, le=16384)
    ultrawarm_node_type: OpenSearchInstanceType | None = None
    ultrawarm_nodes: int = Field(default=0, ge=0)
    cold_storage: bool = False

    @model_validator(mode="after")
    def _zone_awareness(self) -> VectorDomain:
        if self.zone_awareness and self.data_nodes % 2:
            raise ValueError("with zone_awareness on (2 AZs) data_nodes must be even")
        if self.ultrawarm_nodes and not self.ultrawarm_node_type:
            raise ValueError("ultrawarm_nodes needs ultrawarm_node_type")
        if self.cold_storage and not self.ultrawarm_nodes:
            raise ValueError("cold_storage needs UltraWarm nodes")
        return self


# ----------------------------------------------------------------------------- cost
class Budget(Strict):
    team: Name
    monthly_limit_usd: float = Field(gt=0)
    thresholds_percent: list[int] = Field(default=[80, 100], min_length=1)


class Sharding(Strict):
    """How many models share one serving / training / monitoring stack.

    CloudFormation caps a stack at 500 resources. The maxima keep a shard of two-variant models
    under 450 (a serving model is about 20 resources, a training model 11 and a monitoring
    model 6); models with more variants may need smaller shards, and synth says so.
    """

    models_per_serving_stack: int = Field(default=10, ge=1, le=20)
    models_per_training_stack: int = Field(default=10, ge=1, le=25)
    models_per_monitoring_stack: int = Field(default=10, ge=1, le=30)


class PlatformConfig(Strict):
    name: Name = "mlplatform"
    environments: list[Environment] = Field(min_length=1)
    teams: list[Team] = Field(min_length=1)
    feature_store: FeatureStoreSettings = FeatureStoreSettings()
    feature_groups: list[FeatureGroup] = []
    streaming_sources: list[StreamingSource] = []
    models: list[ModelConfig] = []
    prediction_api: PredictionApiSettings = PredictionApiSettings()
    vector_domain: VectorDomain = VectorDomain()
    vector_indexes: list[VectorIndex] = []
    budgets: list[Budget] = []
    sharding: Sharding = Sharding()
    cost_report_schedule: Schedule = "rate(1 day)"

    def team(self, name: str) -> Team:
        return next(t for t in self.teams if t.name == name)

    def feature_group(self, name: str) -> FeatureGroup:
        return next(g for g in self.feature_groups if g.name == name)


def _no_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} name {name!r}")
        seen.add(name)

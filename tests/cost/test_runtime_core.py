import pytest

from lambdas.cost.catalog import default_catalog
from lambdas.cost.inference_cost import average_instance_count, variant_cost
from lambdas.cost.rightsizing import Thresholds, VariantUtilisation, recommend
from lambdas.cost.spot_savings import TrainingJob, job_saving, spot_summary
from lambdas.cost.storage_tiering import GIB, BucketStorage, tiering_saving

CATALOG = default_catalog()
REGION = "us-east-1"


def _usage(**overrides):
    base = dict(
        endpoint="fraud",
        variant="AllTraffic",
        instance_type="ml.c6i.4xlarge",
        instance_count=2,
        window_hours=24,
        invocations=1_000_000,
        p99_latency_us=20_000,
        latency_slo_ms=100,
    )
    return VariantUtilisation(**{**base, **overrides})


def test_cost_per_inference_is_instance_hours_times_price_over_invocations():
    cost = variant_cost(
        CATALOG,
        REGION,
        endpoint="e",
        variant="v",
        instance_type="ml.m5.xlarge",
        average_instance_count=2,
        window_hours=24,
        invocations=1_000_000,
    )
    assert cost.window_cost_usd == pytest.approx(2 * 24 * 0.23)  # $11.04
    assert cost.cost_per_inference_usd == pytest.approx(11.04 / 1_000_000)
    assert cost.cost_per_thousand_usd == pytest.approx(0.01104)
    assert cost.monthly_cost_usd == pytest.approx(2 * 730 * 0.23)


def test_cost_per_inference_without_invocations_or_price_is_none():
    idle = variant_cost(
        CATALOG,
        REGION,
        endpoint="e",
        variant="v",
        instance_type="ml.m5.xlarge",
        average_instance_count=1,
        window_hours=24,
        invocations=0,
    )
    assert idle.cost_per_inference_usd is None and idle.window_cost_usd == pytest.approx(24 * 0.23)
    unknown = variant_cost(
        CATALOG,
        "xx-nowhere-1",
        endpoint="e",
        variant="v",
        instance_type="ml.m5.xlarge",
        average_instance_count=1,
        window_hours=24,
        invocations=10,
    )
    assert unknown.window_cost_usd is None and "xx-nowhere-1" in unknown.price_source


def test_average_instance_count_follows_invocations_per_instance():
    # 6,000 invocations, 2,000 per instance: three instances on average
    assert average_instance_count(6_000, 2_000, current_count=1) == pytest.approx(3.0)
    assert average_instance_count(0, 0, current_count=2) == 2


def test_idle_endpoint_saves_its_whole_cost():
    rec = recommend(_usage(invocations=0, cpu_percent=3.0), CATALOG, REGION)
    assert rec.action == "idle"
    assert rec.monthly_saving_usd == pytest.approx(2 * 0.816 * 730)
    assert any("0 invocations" in e for e in rec.evidence)


def test_under_used_cpu_endpoint_walks_down_the_ladder():
    # c6i.4xlarge = 16 vCPU; 160% summed CPU = 1.6 vCPU busy = 10% of capacity.
    # At a 60% target it needs 2.67 vCPU; memory 20% of 32 GiB at 75% needs 8.53 GiB -> c6i.2xlarge (8 vCPU, 16 GiB).
    rec = recommend(_usage(cpu_percent=160.0, memory_percent=20.0), CATALOG, REGION)
    assert rec.action == "downsize"
    assert rec.recommended_type == "ml.c6i.2xlarge"
    assert rec.monthly_saving_usd == pytest.approx(2 * (0.816 - 0.408) * 730)
    assert any("160% over 16 vCPU = 10% of capacity" in e for e in rec.evidence)


def test_cpu_is_normalised_by_vcpu_count_not_read_as_a_percentage():
    # 150% on 16 vCPU is 9% busy; read naively as 150% it would look saturated.
    rec = recommend(_usage(cpu_percent=150.0), CATALOG, REGION)
    assert rec.action == "downsize"


def test_saturated_endpoint_is_upsized_with_a_negative_saving():
    # 1,400% over 16 vCPU = 87.5% busy > 80%: needs 14/0.6 = 23.3 vCPU -> c6i.8xlarge (32 vCPU).
    rec = recommend(_usage(cpu_percent=1400.0, memory_percent=40.0), CATALOG, REGION)
    assert rec.action == "upsize"
    assert rec.recommended_type == "ml.c6i.8xlarge"
    assert rec.monthly_saving_usd == pytest.approx(-2 * (1.632 - 0.816) * 730)
    assert any("saturated" in e for e in rec.evidence)


def test_latency_over_slo_upsizes_one_rung_even_at_low_cpu():
    rec = recommend(_usage(cpu_percent=400.0, p99_latency_us=150_000), CATALOG, REGION)
    assert rec.action == "upsize" and rec.recommended_type == "ml.c6i.8xlarge"


def test_saturated_at_top_of_family_scales_out():
    rec = recommend(_usage(instance_type="ml.c6i.32xlarge", cpu_percent=0.9 * 12800), CATALOG, REGION)
    assert rec.action == "scale_out"
    assert rec.recommended_type == "ml.c6i.32xlarge"
    assert rec.monthly_cost_after_usd == pytest.approx(3 * 6.528 * 730)


def test_latency_bound_endpoint_is_not_downsized_despite_idle_cpu():
    # p99 85 ms against a 100 ms SLO: above the 70% headroom, so no downsize.
    rec = recommend(_usage(cpu_percent=80.0, p99_latency_us=85_000), CATALOG, REGION)
    assert rec.action == "keep"
    assert rec.monthly_saving_usd == 0.0
    assert any("latency-bound" in e and "85%" in e for e in rec.evidence)


def test_latency_is_read_in_microseconds():
    # 60,000 us = 60 ms = 60% of the SLO: downsizing allowed. Read as ms it would be far over.
    rec = recommend(_usage(cpu_percent=80.0, p99_latency_us=60_000), CATALOG, REGION)
    assert rec.action == "downsize"
    assert any("60.0 ms = 60% of the 100 ms SLO" in e for e in rec.evidence)


def test_maximum_standing_in_for_p99_is_labelled():
    rec = recommend(_usage(cpu_percent=80.0, p99_latency_us=90_000, p99_is_maximum=True), CATALOG, REGION)
    assert rec.action == "keep"
    assert any(e.startswith("max (p99 unavailable)") for e in rec.evidence)


def test_gpu_under_used_moves_to_a_single_gpu_type():
    # g5.12xlarge: 4 GPUs, 48 vCPU, 192 GiB. GPU 40% summed = 10% of capacity -> needs 0.67 GPU (at least 1);
    # CPU 480% = 4.8 vCPU busy -> 8 vCPU at target; memory 10% of 192 = 19.2 GiB -> 25.6 GiB at 75%.
    # The cheapest g5 with >=1 GPU, >=8 vCPU, >=25.6 GiB is g5.2xlarge (8 vCPU, 32 GiB, $1.515).
    usage = _usage(
        instance_type="ml.g5.12xlarge",
        instance_count=1,
        cpu_percent=480.0,
        memory_percent=10.0,
        gpu_percent=40.0,
        gpu_memory_percent=60.0,
    )
    rec = recommend(usage, CATALOG, REGION)
    assert rec.action == "downsize"
    assert rec.recommended_type == "ml.g5.2xlarge"
    assert rec.monthly_saving_usd == pytest.approx((7.09 - 1.515) * 730)
    assert any("GPU 40% over 4 GPU = 10% of capacity" in e for e in rec.evidence)


def test_busy_gpu_is_not_downsized_even_with_idle_cpu():
    usage = _usage(
        instance_type="ml.g5.12xlarge",
        instance_count=1,
        cpu_percent=200.0,
        memory_percent=10.0,
        gpu_percent=300.0,
    )
    rec = recommend(usage, CATALOG, REGION)
    assert rec.action == "keep"


def test_right_sized_endpoint_is_kept():
    # c6i.large: 2 vCPU; 100% summed = 50% busy; needs 1.67 vCPU; nothing cheaper in c6i.
    rec = recommend(_usage(instance_type="ml.c6i.large", cpu_percent=100.0), CATALOG, REGION)
    assert rec.action == "keep" and any("right-sized" in e for e in rec.evidence)


def test_unknown_instance_type_is_reported_not_guessed():
    rec = recommend(_usage(instance_type="ml.x99.mega"), CATALOG, REGION)
    assert rec.action == "unknown" and rec.monthly_cost_usd is None and rec.monthly_saving_usd == 0.0


def test_thresholds_are_configurable():
    strict = Thresholds(target=0.05)
    rec = recommend(_usage(cpu_percent=160.0), CATALOG, REGION, strict)
    # 1.6 vCPU / 0.05 = 32 vCPU: larger than the current 16, yet not saturated -> keep
    assert rec.action == "keep"


def test_spot_job_saving_is_one_minus_billable_over_training():
    job = TrainingJob("j1", "ml.g5.xlarge", 2, training_seconds=3600, billable_seconds=1080, spot=True)
    saving = job_saving(job, CATALOG, REGION)
    assert saving.saving_fraction == pytest.approx(0.70)
    assert saving.on_demand_cost_usd == pytest.approx(2 * 1.408)
    assert saving.saving_usd == pytest.approx(2 * 1.408 * 0.70)
    assert saving.basis.startswith("measured")


def test_on_demand_job_reports_available_saving_with_the_assumption():
    job = TrainingJob("j2", "ml.m5.xlarge", 1, training_seconds=7200, billable_seconds=7200, spot=False)
    saving = job_saving(job, CATALOG, REGION)
    assert saving.saving_usd == pytest.approx(2 * 0.23 * 0.70)
    assert "Assumption" in saving.basis


def test_spot_summary_separates_realised_and_available():
    jobs = [
        TrainingJob("a", "ml.m5.xlarge", 1, 3600, 1800, True),
        TrainingJob("b", "ml.m5.xlarge", 1, 3600, 3600, False),
        TrainingJob("c", "ml.unknown.x", 1, 3600, 3600, False),
    ]
    summary = spot_summary(jobs, CATALOG, REGION)
    assert summary["realised_saving_usd"] == pytest.approx(0.12, abs=0.005)  # 0.5 h x $0.23
    assert summary["available_saving_usd"] == pytest.approx(0.16, abs=0.005)  # 1 h x $0.23 x 0.7
    assert summary["jobs"][2]["basis"] == "no training price"


def test_tiering_saving_for_large_standard_objects():
    # 10 TiB of Standard in 1e6 objects (10 MiB each): half cold saves 5,120 GiB x (0.023 - 0.0125)
    # minus monitoring 1e6 x $0.0000025 = $2.50.
    storage = BucketStorage("capture", {"StandardStorage": 10240 * GIB}, 1_000_000)
    saving = tiering_saving(storage, CATALOG, REGION)
    assert saving.monthly_storage_cost_usd == pytest.approx(10240 * 0.023)
    assert saving.estimated_saving_usd == pytest.approx(5120 * 0.0105 - 2.5)
    assert saving.upper_bound_saving_usd == pytest.approx(10240 * 0.0105 - 2.5)
    assert "INTELLIGENT_TIERING" in saving.recommendation


def test_tiering_skips_small_objects():
    storage = BucketStorage("features", {"StandardStorage": 100 * GIB}, 10_000_000)  # ~10 KB each
    saving = tiering_saving(storage, CATALOG, REGION)
    assert saving.estimated_saving_usd == 0.0 and "128 KB" in saving.recommendation


def test_tiering_lists_unpriced_storage_types():
    storage = BucketStorage("b", {"StandardStorage": GIB, "ReducedRedundancyStorage": GIB}, 1)
    assert tiering_saving(storage, CATALOG, REGION).unpriced_storage_types == ["ReducedRedundancyStorage"]


def test_serverless_cost_per_inference_from_model_latency():
    from lambdas.cost.inference_cost import serverless_variant_cost

    cost = serverless_variant_cost(
        CATALOG,
        REGION,
        endpoint="churn",
        variant="AllTraffic",
        memory_mb=2048,
        window_hours=24,
        invocations=100_000,
        average_latency_us=50_000,
    )
    # 100,000 x 0.05 s x 2 GB = 10,000 GB-s at $0.00002
    assert cost.window_cost_usd == pytest.approx(0.20)
    assert cost.cost_per_inference_usd == pytest.approx(0.20 / 100_000)
    assert cost.monthly_cost_usd == pytest.approx(0.20 * 730 / 24)
    assert "lower bound" in cost.price_source and cost.instance_type == "serverless 2048 MB"

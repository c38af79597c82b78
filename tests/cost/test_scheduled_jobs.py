import pytest

from lambdas.common.errors import InputError
from lambdas.cost.catalog import default_catalog
from lambdas.cost.cost_line import Basis
from lambdas.cost.job_pricing import JOBS_STACK, price_job
from lambdas.cost.schedule_rate import runs_per_month
from lambdas.cost.usage import ScheduledJob, parse_usage
from mlplatform.commands.cost import usage_from_config


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", 730.0),
        ("rate(30 minutes)", 1460.0),
        ("rate(7 days)", 730.0 / 168.0),
        ("rate(1 day)", 730.0 / 24.0),
        ("cron(0 2 * * ? *)", 730.0 / 24.0),  # daily at 02:00
        ("cron(0/15 * * * ? *)", 4 * 730.0),  # every 15 minutes
        ("cron(0 7 ? * MON-FRI *)", 5 / 7 * 730.0 / 24.0),  # weekdays
        ("cron(0 4 1 * ? *)", 1.0),  # first of the month
        ("cron(0 9,17 ? * SAT *)", 2 / 7 * 730.0 / 24.0),  # twice on Saturdays
        ("cron(0 0 1 1 ? *)", 1 / 12),  # once a year
    ],
)
def test_runs_per_month(expression, runs):
    assert runs_per_month(expression) == pytest.approx(runs)


@pytest.mark.parametrize("expression", ["every day", "rate(0 days)", "cron(0 2 * *)", "cron(x 2 * * ? *)"])
def test_bad_schedule_is_an_input_error(expression):
    with pytest.raises(InputError, match="schedule"):
        runs_per_month(expression)


def test_spot_training_job_uses_discounted_training_price():
    job = ScheduledJob(
        name="fraud",
        service="sagemaker_training",
        instance_type="ml.m5.xlarge",
        instance_count=2,
        hours_per_run=2,
        runs_per_month=4,
        spot=True,
    )
    line = price_job(job, default_catalog(), "us-east-1")
    # 4 runs x 2 h x 2 instances = 16 instance-hours at $0.23 x (1 - 0.70)
    assert line.monthly_usd == pytest.approx(16 * 0.23 * 0.30)
    assert line.stack == JOBS_STACK and line.basis == Basis.USAGE


def test_glue_job_is_dpu_hours_times_price():
    job = ScheduledJob(name="batch", service="glue", dpus=2, hours_per_run=0.5, runs_per_month=30)
    assert price_job(job, default_catalog(), "eu-central-1").monthly_usd == pytest.approx(30 * 0.5 * 2 * 0.44)


def test_job_without_region_is_unpriced():
    job = ScheduledJob(name="batch", service="glue", dpus=2, hours_per_run=1, runs_per_month=30)
    line = price_job(job, default_catalog(), None)
    assert line.basis == Basis.UNPRICED and line.monthly_usd is None


def test_job_missing_its_capacity_is_an_input_error():
    with pytest.raises(InputError, match="a glue job needs dpus"):
        parse_usage({"jobs": [{"name": "b", "service": "glue", "hours_per_run": 1, "runs_per_month": 1}]})
    with pytest.raises(InputError, match="needs instance_type"):
        parse_usage(
            {
                "jobs": [
                    {"name": "t", "service": "sagemaker_training", "hours_per_run": 1, "runs_per_month": 1}
                ]
            }
        )


def test_usage_derived_from_the_default_config(default_config):
    usage = parse_usage(usage_from_config(default_config))
    assert usage.default_region == default_config.environments[0].region
    jobs = {job.name: job for job in usage.jobs}
    training = jobs["dev/fraud-detector/training"]
    # config: retraining rate(7 days), training ml.m5.xlarge spot, max_runtime 2h
    assert (training.instance_type, training.spot, training.hours_per_run) == ("ml.m5.xlarge", True, 2.0)
    assert training.runs_per_month == pytest.approx(730 / 168)
    # Glue jobs are template resources, priced there: none is derived from the config
    assert {job.service for job in usage.jobs} == {"sagemaker_training"}


def _glue(properties, usage):
    from lambdas.cost.estimate import price_resource
    from lambdas.cost.pricing_context import PricingContext
    from lambdas.cost.usage import ResourceUsage

    ctx = PricingContext(
        "S", "us-east-1", "Job", "AWS::Glue::Job", properties, {}, default_catalog(), ResourceUsage(**usage)
    )
    return price_resource(ctx)


def test_glue_job_priced_from_template_workers_and_run_hours():
    (line,) = _glue(
        {"WorkerType": "G.2X", "NumberOfWorkers": 5, "Command": {"Name": "glueetl"}},
        {"run_hours_per_month": 15},
    )
    # 15 run-hours x 5 workers x 2 DPU = 150 DPU-hours at $0.44
    assert line.monthly_usd == pytest.approx(150 * 0.44)
    assert "5 x G.2X" in line.detail


def test_glue_job_capacity_fallbacks():
    (shell,) = _glue({"Command": {"Name": "pythonshell"}}, {"run_hours_per_month": 10})
    assert shell.monthly_usd == pytest.approx(10 * 0.0625 * 0.44)
    (capacity,) = _glue({"MaxCapacity": 4}, {"run_hours_per_month": 10})
    assert capacity.monthly_usd == pytest.approx(10 * 4 * 0.44)
    (given,) = _glue({"WorkerType": "G.1X", "NumberOfWorkers": 2}, {"dpu_hours_per_month": 7})
    assert given.monthly_usd == pytest.approx(7 * 0.44)
    (odd,) = _glue({"WorkerType": "Q.9X", "NumberOfWorkers": 2}, {"run_hours_per_month": 1})
    assert odd.basis == Basis.UNPRICED

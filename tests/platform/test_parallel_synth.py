"""Parallel synthesis: the shard layout, the worker count, the assembly merge, and that a
platform synthesized by two processes is the same cloud assembly as one synthesized by one."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.app_builder import SKIP_BUNDLING
from stacks.assembly_merge import AssemblyMergeError, merge_assemblies
from stacks.config.models import PlatformConfig
from stacks.config.scaling import with_model_copies
from stacks.parallel_synth import SynthWorkerError, synthesize, worker_count
from stacks.stack_layout import SynthPart, shards, stack_ids


def small_shards(config: PlatformConfig, models: int, per_stack: int) -> PlatformConfig:
    sharding = config.sharding.model_copy(
        update={
            "models_per_serving_stack": per_stack,
            "models_per_training_stack": per_stack,
            "models_per_monitoring_stack": per_stack,
        }
    )
    return with_model_copies(config, models).model_copy(update={"sharding": sharding})


# --------------------------------------------------------------------------- layout
def test_shards_follow_creation_order_and_split_models_by_stack_size(default_config) -> None:  # type: ignore[no-untyped-def]
    config = small_shards(default_config, 5, 2)
    layout = shards(config)
    assert [s.construct_id for s in layout] == [
        "Serving-1", "Serving-2", "Serving-3",
        "Training-1", "Training-2", "Training-3",
        "Monitoring-1", "Monitoring-2", "Monitoring-3",
    ]  # fmt: skip
    assert [s.position for s in layout] == list(range(9))
    assert [len(s.models) for s in layout if s.kind == "Serving"] == [2, 2, 1]
    assert stack_ids(config)[:2] == ["Foundation", "FeatureStore"]
    assert stack_ids(config)[-1] == "VectorSearch"


def test_a_config_without_models_still_has_the_platform_wide_monitoring_shard(default_config) -> None:  # type: ignore[no-untyped-def]
    config = default_config.model_copy(update={"models": []})
    assert [s.construct_id for s in shards(config)] == ["Monitoring-1"]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_parts_own_every_shard_exactly_once(default_config, count: int) -> None:  # type: ignore[no-untyped-def]
    layout = shards(small_shards(default_config, 7, 2))
    owners = [[i for i in range(count) if SynthPart(i, count).owns(s)] for s in layout]
    assert all(len(o) == 1 for o in owners)
    shares = [sum(1 for o in owners if o == [i]) for i in range(count)]
    assert max(shares) - min(shares) <= 1


@pytest.mark.parametrize(("index", "count"), [(0, 0), (2, 2), (-1, 2)])
def test_a_part_outside_its_count_is_rejected(index: int, count: int) -> None:
    with pytest.raises(ValueError, match=r"index must be in 0\.\.count-1"):
        SynthPart(index, count)


# --------------------------------------------------------------------------- worker count
def test_small_configs_synthesize_in_one_process(default_config) -> None:  # type: ignore[no-untyped-def]
    assert worker_count(default_config, cores=8) == 1
    assert worker_count(with_model_copies(default_config, 19), cores=8) == 1


def test_large_configs_use_one_process_per_core_up_to_four(default_config) -> None:  # type: ignore[no-untyped-def]
    config = with_model_copies(default_config, 100)
    assert worker_count(config, cores=2) == 2
    assert worker_count(config, cores=1) == 1
    assert worker_count(config, cores=64) == 4


def test_a_requested_worker_count_is_capped_by_the_shards_and_must_be_positive(default_config) -> None:  # type: ignore[no-untyped-def]
    assert worker_count(default_config, requested=8) == 3  # Serving-1, Training-1, Monitoring-1
    with pytest.raises(ValueError, match="synth-workers: 0 must be at least 1"):
        worker_count(default_config, requested=0)


# --------------------------------------------------------------------------- merge
def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def fake_assembly(root: Path, stacks: list[str], template: str = "{}") -> Path:
    """A cloud assembly with one stage `dev` holding `stacks` (construct ids)."""
    artifacts: dict[str, Any] = {}
    for stack in stacks:
        artifacts[f"dev{stack}.assets"] = {"type": "cdk:asset-manifest"}
        artifacts[f"dev{stack}"] = {"type": "aws:cloudformation:stack", "displayName": f"dev/{stack}"}
        (root / "assembly-dev").mkdir(parents=True, exist_ok=True)
        (root / "assembly-dev" / f"dev{stack}.template.json").write_text(
            template if stack == "Foundation" else json.dumps({"stack": stack})
        )
    artifacts["aws-cdk-lib/feature-flag-report"] = {"type": "cdk:feature-flag-report"}
    write_json(root / "assembly-dev" / "manifest.json", {"version": "55.0.0", "artifacts": artifacts})
    write_json(
        root / "manifest.json",
        {"version": "55.0.0", "artifacts": {"assembly-dev": {"type": "cdk:cloud-assembly"}}},
    )
    write_json(
        root / "tree.json",
        {
            "version": "tree-0.1",
            "tree": {
                "id": "App",
                "path": "",
                "children": {
                    "dev": {
                        "id": "dev",
                        "path": "dev",
                        "children": {s: {"id": s, "path": f"dev/{s}"} for s in stacks},
                    }
                },
            },
        },
    )
    return root


ORDER = ["dev/Foundation", "dev/Serving-1", "dev/Serving-2", "dev/Serving-3"]


def test_merge_unions_stacks_in_creation_order(tmp_path: Path) -> None:
    target = fake_assembly(tmp_path / "main", ["Foundation", "Serving-1", "Serving-3"])
    part = fake_assembly(tmp_path / "part", ["Foundation", "Serving-2"])
    (part / "asset.abc").mkdir()
    (part / "asset.abc" / "index.py").write_text("x = 1")
    merge_assemblies(target, [part], ORDER)

    manifest = json.loads((target / "assembly-dev" / "manifest.json").read_text())
    assert list(manifest["artifacts"]) == [
        "devFoundation.assets", "devFoundation",
        "devServing-1.assets", "devServing-1",
        "devServing-2.assets", "devServing-2",
        "devServing-3.assets", "devServing-3",
        "aws-cdk-lib/feature-flag-report",
    ]  # fmt: skip
    assert json.loads((target / "assembly-dev" / "devServing-2.template.json").read_text()) == {
        "stack": "Serving-2"
    }
    assert (target / "asset.abc" / "index.py").read_text() == "x = 1"
    tree = json.loads((target / "tree.json").read_text())
    assert list(tree["tree"]["children"]["dev"]["children"]) == [
        "Foundation", "Serving-1", "Serving-2", "Serving-3",
    ]  # fmt: skip


def test_merge_refuses_a_stack_that_two_workers_synthesized_differently(tmp_path: Path) -> None:
    target = fake_assembly(tmp_path / "main", ["Foundation", "Serving-1"], template='{"a": 1}')
    part = fake_assembly(tmp_path / "part", ["Foundation", "Serving-2"], template='{"a": 2}')
    with pytest.raises(AssemblyMergeError, match=r"devFoundation\.template\.json: synth workers produced"):
        merge_assemblies(target, [part], ORDER)


def test_merge_refuses_a_worker_directory_that_is_no_assembly(tmp_path: Path) -> None:
    target = fake_assembly(tmp_path / "main", ["Foundation"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssemblyMergeError, match=r"wrote no manifest\.json"):
        merge_assemblies(target, [tmp_path / "empty"], ORDER)


def test_merge_keeps_one_copy_of_each_validation_finding(tmp_path: Path) -> None:
    def finding(path: str, rule: str = "W3010") -> dict[str, Any]:
        return {
            "ruleName": rule,
            "description": "avoid hardcoding 'us-east-1a'",
            "violatingConstructs": [
                {
                    "constructPath": path,
                    "stackTraces": [f"/tmp/jsii-kernel-{path}"],
                    "cloudFormationResource": {"templatePath": "t.json", "logicalId": path},
                }
            ],
        }

    def report(*entries: dict[str, Any], conclusion: str = "success") -> dict[str, Any]:
        plugin = {"pluginName": "CloudFormation Validate", "conclusion": conclusion, "violations": []}
        return {"pluginReports": [{**plugin, "suppressedViolations": list(entries)}]}

    target = fake_assembly(tmp_path / "main", ["Foundation"])
    part = fake_assembly(tmp_path / "part", ["Foundation"])
    write_json(target / "validation-report.json", report(finding("dev/Foundation/Subnet")))
    part_report = report(finding("dev/Foundation/Subnet"), finding("dev/Serving-2/Bucket", "W3045"))
    part_report["pluginReports"][0]["stackTraces"] = "differ per process"
    write_json(part / "validation-report.json", part_report)
    merge_assemblies(target, [part], ORDER)

    merged = json.loads((target / "validation-report.json").read_text())["pluginReports"]
    assert len(merged) == 1
    paths = [e["violatingConstructs"][0]["constructPath"] for e in merged[0]["suppressedViolations"]]
    assert paths == ["dev/Foundation/Subnet", "dev/Serving-2/Bucket"]


# --------------------------------------------------------------------------- end to end
def assembly_contents(root: Path) -> dict[str, Any]:
    """Everything in a cloud assembly that must not depend on how it was synthesized."""
    stage = root / "assembly-dev"
    files = {
        p.name: json.loads(p.read_text())
        for p in sorted(stage.iterdir())
        if p.name.endswith((".template.json", ".assets.json"))
    }
    report = json.loads((root / "validation-report.json").read_text())
    findings = [
        (plugin["pluginName"], entry["ruleName"], [c["constructPath"] for c in entry["violatingConstructs"]])
        for plugin in report["pluginReports"]
        for entry in plugin["suppressedViolations"] + plugin["violations"]
    ]
    return {
        "files": files,
        "assets": sorted(p.name for p in root.iterdir() if p.name.startswith("asset.")),
        "stage manifest": json.loads((stage / "manifest.json").read_text()),
        "manifest": json.loads((root / "manifest.json").read_text()),
        "tree": json.loads((root / "tree.json").read_text()),
        "findings": findings,
    }


@pytest.mark.synth
def test_two_workers_synthesize_the_same_assembly_as_one_process(default_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = small_shards(default_config, 4, 2)
    one = synthesize(config, outdir=str(tmp_path / "one"), nag=True, context=SKIP_BUNDLING, workers=1)
    two = synthesize(config, outdir=str(tmp_path / "two"), nag=True, context=SKIP_BUNDLING, workers=2)
    expected, merged = assembly_contents(one), assembly_contents(two)
    assert sorted(merged["files"]) == sorted(expected["files"])
    for name in expected["files"]:
        assert merged["files"][name] == expected["files"][name], name
    assert merged == expected
    stacks = [
        a["displayName"] for a in expected["stage manifest"]["artifacts"].values() if "displayName" in a
    ]
    assert stacks == [f"dev/{s}" for s in stack_ids(config)]


@pytest.mark.synth
def test_a_failed_worker_fails_the_synth(
    default_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import stacks.parallel_synth as parallel_synth

    monkeypatch.setattr(
        parallel_synth,
        "worker_command",
        lambda job, part, outdir: [sys.executable, "-c", "raise SystemExit(3)"],
    )
    config = small_shards(default_config, 2, 1)
    with pytest.raises(SynthWorkerError, match=r"synth worker\(s\) \[1\] of 2 failed"):
        synthesize(config, outdir=str(tmp_path), nag=False, context=SKIP_BUNDLING, workers=2)


def test_a_stack_over_cloudformations_limit_names_the_shard_setting() -> None:
    from stacks.parallel_synth import StackTooLargeError, _synth

    class _App:
        def synth(self) -> None:
            # The message aws-cdk-lib gives (seen with 30 serving models per stack).
            raise RuntimeError(
                "TooManyResourcesInStack: Number of resources in stack 'dev/Serving-1': 617 is greater "
                "than allowed maximum of 500: AWS::IAM::Role (31), AWS::IAM::Policy (32)"
            )

    with pytest.raises(StackTooLargeError) as caught:
        _synth(_App())
    assert str(caught.value) == (
        "stack dev/Serving-1 would hold 617 resources, more than CloudFormation's 500: lower "
        "sharding.models_per_serving_stack in the config (models with many variants need smaller shards)"
    )

    class _Broken:
        def synth(self) -> None:
            raise RuntimeError("something else")

    with pytest.raises(RuntimeError, match="something else"):
        _synth(_Broken())

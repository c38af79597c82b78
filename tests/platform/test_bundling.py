"""The Docker-free bundler: Lambda-platform wheels, stripped output, cache, and the 250 MB limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib import local_bundling
from constructs_lib.local_bundling import BundleSpec, BundlingError, LayerSize, build_bundle

LAMBDAS = Path(local_bundling.REPO_ROOT) / "lambdas"


def _spec(**overrides: object) -> BundleSpec:
    values: dict[str, object] = {
        "name": "test/Function",
        "requirements": ("pydantic-core>=2.14,<3",),
        "source_files": (LAMBDAS / "__init__.py",),
        "source_dirs": (LAMBDAS / "common",),
        "python_version": "3.14",
        "architecture": "aarch64",
    }
    values.update(overrides)
    return BundleSpec(**values)  # type: ignore[arg-type]


def test_bundle_holds_wheels_for_the_lambda_platform_and_the_handler_package(tmp_path: Path) -> None:
    out = tmp_path / "out"
    size = build_bundle(_spec(), out, cache_dir=tmp_path / "cache")
    (wheel_file,) = out.glob("pydantic_core-*.dist-info/WHEEL")
    tags = [
        line.split(": ", 1)[1] for line in wheel_file.read_text().splitlines() if line.startswith("Tag: ")
    ]
    assert tags and all(t.startswith("cp314-cp314-manylinux") and t.endswith("_aarch64") for t in tags), tags
    assert list(out.glob("pydantic_core/_pydantic_core*.so"))
    assert (out / "lambdas" / "__init__.py").is_file() and (
        out / "lambdas" / "common" / "errors.py"
    ).is_file()
    assert not list(out.rglob("__pycache__")) and not list(out.rglob("*.pyc"))
    assert size == sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def test_second_build_is_served_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(requirements=())
    build_bundle(spec, tmp_path / "a", cache_dir=tmp_path / "cache")

    def no_pip(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pip ran again")

    monkeypatch.setattr(local_bundling, "_pip_install", no_pip)
    build_bundle(spec, tmp_path / "b", cache_dir=tmp_path / "cache")
    assert (tmp_path / "b" / "lambdas" / "common" / "errors.py").is_file()


def test_cache_key_changes_with_requirements_and_target() -> None:
    base = _spec()
    assert base.cache_key() != _spec(requirements=("pydantic-core==2.20.0",)).cache_key()
    assert base.cache_key() != _spec(architecture="x86_64").cache_key()
    assert base.cache_key() == _spec().cache_key()


def test_function_plus_layers_over_250_mb_fails_with_a_clear_message(tmp_path: Path) -> None:
    heavy = LayerSize(name="stack/AnalysisLayer", bytes=250 * 1024 * 1024)
    with pytest.raises(BundlingError, match=r"over Lambda's 250 MB limit") as caught:
        build_bundle(
            _spec(requirements=(), layer_sizes=(heavy,)), tmp_path / "out", cache_dir=tmp_path / "cache"
        )
    assert "stack/AnalysisLayer 250.0 MB" in str(caught.value)


def test_unresolvable_requirement_names_the_bundle_and_platform(tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match=r"test/Function: pip could not install .*manylinux \(aarch64\)"):
        build_bundle(
            _spec(requirements=("no-such-package-mlplatform-xyz==0.0.1",)),
            tmp_path / "out",
            cache_dir=tmp_path / "c",
        )


def test_functions_with_the_same_requirements_share_one_pip_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []

    def fake_pip(spec: BundleSpec, target: Path) -> None:
        runs.append(spec.name)
        (target / "dep.py").write_text("VALUE = 1\n")

    monkeypatch.setattr(local_bundling, "_pip_install", fake_pip)
    first = _spec(name="a/Function", source_dirs=(LAMBDAS / "common",))
    second = _spec(name="b/Function", source_dirs=(LAMBDAS / "common",), source_files=())
    build_bundle(first, tmp_path / "a", cache_dir=tmp_path / "cache")
    build_bundle(second, tmp_path / "b", cache_dir=tmp_path / "cache")
    assert runs == ["a/Function"]
    assert (tmp_path / "b" / "dep.py").is_file() and (tmp_path / "b" / "lambdas" / "common").is_dir()
    assert first.cache_key() != second.cache_key()


def test_a_product_package_from_outside_the_platform_is_bundled_without_its_excluded_parts(
    tmp_path: Path,
) -> None:
    product = tmp_path / "src" / "shop_service"
    (product / "infra").mkdir(parents=True)
    (product / "__init__.py").write_text("")
    (product / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (product / "infra" / "stack.py").write_text("import aws_cdk\n")
    spec = _spec(requirements=(), extra_packages=(product,), exclude=("infra",))
    build_bundle(spec, tmp_path / "out", cache_dir=tmp_path / "cache")
    assert (tmp_path / "out" / "shop_service" / "handler.py").is_file()
    assert not (tmp_path / "out" / "shop_service" / "infra").exists()
    assert (tmp_path / "out" / "lambdas" / "common" / "errors.py").is_file()
    before = spec.cache_key()
    (product / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    assert spec.cache_key() != before


def _fake_pip(size: int):  # type: ignore[no-untyped-def]
    def fake_pip(spec: BundleSpec, target: Path) -> None:
        (target / "dep.bin").write_bytes(b"x" * size)

    return fake_pip


def test_a_layer_not_bundled_by_this_synth_is_measured_from_the_dependency_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second synth into the same cdk.out finds the layer's asset staged and does not bundle it.
    monkeypatch.setattr(local_bundling, "_pip_install", _fake_pip(3000))
    layer_spec = _spec(name="stack/Layer", source_files=(), source_dirs=(), target_subdir="python")
    build_bundle(layer_spec, tmp_path / "first-synth", cache_dir=tmp_path / "cache")

    layer = LayerSize(name="stack/Layer", spec=layer_spec)
    build_bundle(
        _spec(requirements=(), layer_sizes=(layer,)), tmp_path / "function", cache_dir=tmp_path / "cache"
    )
    assert layer.bytes == 3000


def test_a_layer_without_its_spec_must_be_bundled_before_the_function(tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match=r"layers \['stack/Layer'\] must be bundled before the function"):
        build_bundle(
            _spec(requirements=(), layer_sizes=(LayerSize(name="stack/Layer"),)),
            tmp_path / "function",
            cache_dir=tmp_path / "cache",
        )


def test_dependencies_another_process_cached_first_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    spec = _spec()

    def racing_pip(spec: BundleSpec, target: Path) -> None:
        # A parallel synth worker finishes the same pip run while this one is still installing.
        winner = cache / f"deps-{spec.dependencies_key()}"
        winner.mkdir(parents=True)
        (winner / "dep.py").write_text("WINNER = True\n")
        (target / "dep.py").write_text("WINNER = False\n")

    monkeypatch.setattr(local_bundling, "_pip_install", racing_pip)
    build_bundle(spec, tmp_path / "out", cache_dir=cache)
    assert (tmp_path / "out" / "dep.py").read_text() == "WINNER = True\n"
    assert [p.name for p in cache.iterdir()] == [f"deps-{spec.dependencies_key()}"]

"""Docker-free bundling of Python Lambda code and layers.

CDK's Python bundling runs pip inside a Docker image; CI and developer machines here have
no Docker engine. `PipLocalBundler` does the same work on the host: pip downloads wheels
built for the Lambda platform (manylinux_2_28 on the function's architecture, the runtime's
Python version, binary wheels only, so nothing is compiled for the wrong machine), the
handler packages are copied next to them, tests and caches are stripped, and the result is
cached by a hash of requirements, sources and target so a second synth copies it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling

#: AWS Lambda's limit for a function plus all of its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / ".bundle-cache"

_STRIP_DIR_NAMES = {"__pycache__", "tests", "test", "testing"}
_STRIP_SUFFIXES = (".pyc", ".pyo")
# Packages whose `tests`/`testing` sub-packages are imported at run time must keep them.
_KEEP_TEST_DIRS_UNDER = {"numpy/testing", "numpy/_core/tests"}


class BundlingError(RuntimeError):
    """A bundle could not be built or is too large for Lambda."""


@dataclass
class BundleSpec:
    """What goes into one bundle."""

    name: str
    requirements: Sequence[str] = ()
    source_dirs: Sequence[Path] = ()  # copied as-is below `target_subdir`
    source_files: Sequence[Path] = ()
    #: Top-level packages from anywhere (a product team's own code), copied under their own
    #: name; files matching `exclude` (glob names, e.g. "infra") are left out.
    extra_packages: Sequence[Path] = ()
    exclude: Sequence[str] = ()
    target_subdir: str = ""  # "python" for layers
    python_version: str = "3.13"
    architecture: str = "aarch64"  # or "x86_64"
    #: Sizes of the layers this function runs with, in bytes, for the 250 MB check.
    layer_sizes: Sequence[LayerSize] = ()
    strip_tests: bool = True

    def dependencies_key(self) -> str:
        """Identifies the pip-installed part: functions with the same requirements share it."""
        digest = hashlib.sha256()
        for part in (self.python_version, self.architecture, self.target_subdir, *self.requirements):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:32]

    def cache_key(self) -> str:
        """Identifies the whole bundle (dependencies and sources); also the asset hash."""
        digest = hashlib.sha256(self.dependencies_key().encode())
        for path in sorted(_source_paths(self)):
            digest.update(_bundle_path(self, path).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:32]


@dataclass
class LayerSize:
    """The unzipped size of a layer, known once the layer has been bundled.

    A layer whose asset is already in the output directory (a second `cdk synth` or
    `cdk deploy` into the same cdk.out) is not bundled again; `measure` then reads the size
    from the dependency cache, given the layer's `spec`.
    """

    name: str
    bytes: int | None = field(default=None)
    spec: BundleSpec | None = field(default=None)

    def measure(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> int | None:
        spec = self.spec
        if (
            self.bytes is None
            and spec is not None
            and not (spec.source_dirs or spec.source_files or spec.extra_packages)
        ):
            self.bytes = directory_size(_dependencies(spec, cache_dir))
        return self.bytes


def _source_paths(spec: BundleSpec) -> list[Path]:
    paths: list[Path] = [p for p in spec.source_files]
    for directory in (*spec.source_dirs, *spec.extra_packages):
        paths.extend(
            p
            for p in directory.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(_STRIP_SUFFIXES)
        )
    return paths


def _bundle_path(spec: BundleSpec, path: Path) -> str:
    """Where `path` lands in the bundle: relative to the repository, or to its extra package's parent."""
    for package in spec.extra_packages:
        if path.is_relative_to(package):
            return str(path.relative_to(package.parent))
    return str(path.relative_to(REPO_ROOT))


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _strip(root: Path, strip_tests: bool) -> None:
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists():
            continue
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            if path.name == "__pycache__" or (
                strip_tests
                and path.name in _STRIP_DIR_NAMES
                and not any(rel.endswith(keep) for keep in _KEEP_TEST_DIRS_UNDER)
            ):
                shutil.rmtree(path)
        elif path.name.endswith(_STRIP_SUFFIXES):
            path.unlink()


#: glibc baselines the Lambda Python 3.12+ runtimes (Amazon Linux 2023, glibc 2.34) can load,
#: newest first. pip does not expand a manylinux tag to older compatible ones by itself, and
#: naming only manylinux2014 silently picks old numpy/scipy releases.
MANYLINUX_GLIBC = ("2_34", "2_28", "2_17")


def pip_platform_args(spec: BundleSpec) -> list[str]:
    platforms = [
        arg for glibc in MANYLINUX_GLIBC for arg in ("--platform", f"manylinux_{glibc}_{spec.architecture}")
    ]
    return [
        *platforms,
        "--platform",
        f"manylinux2014_{spec.architecture}",
        "--implementation",
        "cp",
        "--python-version",
        spec.python_version,
        "--only-binary=:all:",
    ]


def build_bundle(spec: BundleSpec, output_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR) -> int:
    """Build the bundle into `output_dir` and return its unzipped size.

    The pip-installed dependencies are cached by `dependencies_key`, so the dozens of
    functions that share a requirements list cost one pip run; sources are copied fresh.
    """
    dependencies = _dependencies(spec, cache_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(dependencies, output_dir, dirs_exist_ok=True)
    target = output_dir / spec.target_subdir if spec.target_subdir else output_dir
    for directory in spec.source_dirs:
        shutil.copytree(directory, target / directory.relative_to(REPO_ROOT), dirs_exist_ok=True)
    for file in spec.source_files:
        destination = target / file.relative_to(REPO_ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", *spec.exclude)
    for package in spec.extra_packages:
        shutil.copytree(package, target / package.name, ignore=ignore, dirs_exist_ok=True)
    _strip(target, spec.strip_tests)
    size = directory_size(output_dir)
    _check_size(spec, size, cache_dir)
    return size


def _dependencies(spec: BundleSpec, cache_dir: Path) -> Path:
    cached = cache_dir / f"deps-{spec.dependencies_key()}"
    if cached.is_dir():
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    try:
        target = staging / spec.target_subdir if spec.target_subdir else staging
        target.mkdir(parents=True, exist_ok=True)
        if spec.requirements:
            _pip_install(spec, target)
        _strip(target, spec.strip_tests)
        try:
            os.replace(staging, cached)
        except OSError:
            # Another synth process (parallel synthesis) cached the same dependencies first.
            if not cached.is_dir():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return cached


def _pip_install(spec: BundleSpec, target: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        *pip_platform_args(spec),
        *spec.requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BundlingError(
            f"bundling {spec.name}: pip could not install {list(spec.requirements)} for "
            f"Python {spec.python_version} on manylinux ({spec.architecture}): " + " | ".join(detail)
        )


def _check_size(spec: BundleSpec, size: int, cache_dir: Path) -> None:
    unknown = [layer.name for layer in spec.layer_sizes if layer.measure(cache_dir) is None]
    if unknown:
        raise BundlingError(f"bundling {spec.name}: layers {unknown} must be bundled before the function")
    total = size + sum(layer.bytes or 0 for layer in spec.layer_sizes)
    if total > LAMBDA_UNZIPPED_LIMIT_BYTES:
        parts = ", ".join(f"{layer.name} {(layer.bytes or 0) / 2**20:.1f} MB" for layer in spec.layer_sizes)
        raise BundlingError(
            f"bundling {spec.name}: function ({size / 2**20:.1f} MB) plus layers ({parts or 'none'}) is "
            f"{total / 2**20:.1f} MB unzipped, over Lambda's 250 MB limit; move heavy dependencies to a "
            "layer shared by fewer functions, split the function, or run the work as a Glue/Processing job"
        )


@jsii.implements(ILocalBundling)
class PipLocalBundler:
    """`ILocalBundling` that builds a `BundleSpec` on the host instead of in Docker."""

    def __init__(self, spec: BundleSpec, on_size: LayerSize | None = None) -> None:
        self._spec = spec
        self._on_size = on_size

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        size = build_bundle(self._spec, Path(output_dir))
        if self._on_size is not None:
            self._on_size.bytes = size
        return True

"""SageMaker instance types the platform accepts, so a typo fails synth instead of deploy."""

from __future__ import annotations

# Size ladders shared by instance generations (ml.<family>.<size>).
_GEN5 = ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")
_GEN6 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")
_GEN7 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
_BURSTABLE = ("medium", "large", "xlarge", "2xlarge")
_GPU = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")

_FAMILIES: dict[str, tuple[str, ...]] = {
    "t2": _BURSTABLE,
    "t3": _BURSTABLE,
    "m5": _GEN5,
    "m5d": _GEN5,
    "m6i": _GEN6,
    "m7i": _GEN7,
    "c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c6i": _GEN6,
    "c7i": _GEN7,
    "r5": _GEN5,
    "r6i": _GEN6,
    "r7i": _GEN7,
    "g4dn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "g5": _GPU,
    "g6": _GPU,
    "p3": ("2xlarge", "8xlarge", "16xlarge"),
    "p4d": ("24xlarge",),
    "p5": ("48xlarge",),
    "inf1": ("xlarge", "2xlarge", "6xlarge", "24xlarge"),
    "inf2": ("xlarge", "8xlarge", "24xlarge", "48xlarge"),
    "trn1": ("2xlarge", "32xlarge"),
}

SAGEMAKER_INSTANCE_TYPES: frozenset[str] = frozenset(
    f"ml.{family}.{size}" for family, sizes in _FAMILIES.items() for size in sizes
)

OPENSEARCH_INSTANCE_FAMILIES = ("t3", "m6g", "m7g", "r6g", "r7g", "c6g", "c7g", "or1", "r6gd", "i4g")


def check_sagemaker_instance_type(value: str) -> str:
    if value not in SAGEMAKER_INSTANCE_TYPES:
        family = value.split(".")[1] if value.count(".") == 2 else None
        hint = (
            f"; {family} sizes: {', '.join(_FAMILIES[family])}"
            if family in _FAMILIES
            else "; expected ml.<family>.<size>, e.g. ml.m5.large"
        )
        raise ValueError(f"unknown SageMaker instance type {value!r}{hint}")
    return value


def check_opensearch_instance_type(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3 or parts[2] != "search" or parts[0] not in OPENSEARCH_INSTANCE_FAMILIES:
        raise ValueError(
            f"unknown OpenSearch instance type {value!r}; expected <family>.<size>.search with family in "
            f"{', '.join(OPENSEARCH_INSTANCE_FAMILIES)}, e.g. r6g.large.search"
        )
    return value

"""Large configs for sharding tests and benchmarks: the default platform with its model copied N times."""

from __future__ import annotations

from stacks.config.models import PlatformConfig


def with_model_copies(config: PlatformConfig, count: int) -> PlatformConfig:
    """`config` with its first model replaced by `count` copies named `<name>-001` ..."""
    if not config.models:
        raise ValueError("the config has no model to copy")
    template = config.models[0]
    width = max(3, len(str(count)))
    copies = []
    for i in range(1, count + 1):
        name = f"{template.name[: 39 - width - 1]}-{i:0{width}d}"
        experiment = (
            template.experiment.model_copy(update={"name": f"exp-{i:0{width}d}"})
            if template.experiment
            else None
        )
        copies.append(template.model_copy(update={"name": name, "experiment": experiment}))
    return config.model_copy(update={"models": [*copies, *config.models[1:]]})

"""The platform config file: pydantic models, loading, and error reporting."""

from stacks.config.loader import ConfigError, load_config
from stacks.config.models import PlatformConfig

__all__ = ["ConfigError", "PlatformConfig", "load_config"]

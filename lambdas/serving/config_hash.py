"""Content-hash names for SageMaker endpoint configs.

An endpoint config cannot be changed in place, so every change needs a new config under
a new name, while the endpoint keeps its name and is updated (blue/green) to point at the
new config. Naming the config from a hash of its resolved content gives exactly that: the
same content always gives the same name (no needless deployment), any change gives a new
one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

# SageMaker resource names: up to 63 characters of [a-zA-Z0-9-], no leading/trailing '-'.
MAX_NAME_LENGTH = 63
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_HASH_LENGTH = 12


def content_hash(content: Any, length: int = _HASH_LENGTH) -> str:
    """Hex hash of JSON-able ``content``, independent of dict key order."""
    if not 8 <= length <= 64:
        raise ValueError(f"length must be between 8 and 64, got {length}")
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def is_valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(_NAME_PATTERN.match(name))


def hashed_name(base: str, content: Any) -> str:
    """``<base>-<hash>``, with ``base`` shortened so the whole fits SageMaker's 63 characters."""
    if not is_valid_name(base):
        raise ValueError(
            f"name {base!r} is not a valid SageMaker name: use up to {MAX_NAME_LENGTH} "
            "letters, digits and inner hyphens"
        )
    suffix = content_hash(content)
    room = MAX_NAME_LENGTH - len(suffix) - 1
    return f"{base[:room].rstrip('-')}-{suffix}"

"""API Gateway proxy responses: JSON bodies, and 400s that list every problem."""

from __future__ import annotations

import json
from typing import Any

from lambdas.common.errors import InputError


def response(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
    }


def bad_request(error: InputError) -> dict[str, Any]:
    return response(
        400,
        {
            "message": f"invalid {error.source or 'request'}",
            "errors": [{"field": p.field, "reason": p.reason} for p in error.problems],
        },
    )

"""API Gateway proxy responses: JSON bodies, and 400s that list every problem."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lambdas.common.errors import InputError


def request_body(event: dict[str, Any]) -> str:
    """The proxy event's body as text; API Gateway base64-encodes it for binary media types."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InputError.single("(body)", f"is not base64-encoded UTF-8: {exc}") from None
    return str(body)


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

"""Turning pydantic validation errors into the platform's `InputError`."""

from __future__ import annotations

from pydantic import ValidationError

from lambdas.common.errors import InputError, Problem


def input_error_from(exc: ValidationError, source: str) -> InputError:
    """One `Problem` per pydantic error, each naming the dotted field path."""
    problems = [
        Problem(".".join(str(part) for part in err["loc"]) or "(root)", err["msg"]) for err in exc.errors()
    ]
    return InputError(problems, source)

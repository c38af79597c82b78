"""The transaction the API accepts, validated into one `InputError` listing every problem."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.common.errors import InputError, Problem

# Ids end up in S3 keys and DynamoDB keys, so they are restricted to characters both accept
# without escaping.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
MAX_AMOUNT = 1_000_000.0


class Transaction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transaction_id: Annotated[str, Field(pattern=ID_PATTERN)]
    card_id: Annotated[str, Field(pattern=ID_PATTERN)]
    merchant_id: Annotated[str, Field(pattern=ID_PATTERN)]
    amount: Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    event_time: datetime

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_a_number(cls, value: Any) -> Any:
        # pydantic would accept "12.5" and True; a payment amount must be a JSON number.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a JSON number")
        return value

    @field_validator("event_time")
    @classmethod
    def _event_time_has_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-01-31T12:00:00Z")
        return value.astimezone(UTC)

    @property
    def event_time_ms(self) -> int:
        return round(self.event_time.timestamp() * 1000)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump()
        data["event_time"] = self.event_time.isoformat().replace("+00:00", "Z")
        return data


def parse_transaction(body: Any) -> Transaction:
    """A transaction from a decoded JSON body or its text; every problem is named."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InputError.single("(body)", f"is not valid JSON: {exc}", "transaction") from None
    if not isinstance(body, dict):
        raise InputError.single("(body)", f"must be a JSON object, got {type(body).__name__}", "transaction")
    try:
        return Transaction.model_validate(body)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in err["loc"]) or "(body)", _reason(err)) for err in exc.errors()
        ]
        raise InputError(problems, "transaction") from None


def _reason(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] == "missing":
        return "is required"
    if err["type"] == "extra_forbidden":
        return "is not a transaction field"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return message


def check_current(txn: Transaction, now_ms: int, *, max_age_seconds: int, max_skew_seconds: int) -> None:
    """An authorization request is about now. An older or future-dated event time would fall
    outside the velocity windows' lateness and not be counted, which a caller could use to
    hide a burst, so it is refused instead."""
    age_ms = now_ms - txn.event_time_ms
    if age_ms > max_age_seconds * 1000:
        raise InputError.single(
            "event_time",
            f"is {age_ms / 1000:.0f} s old; at most {max_age_seconds} s is accepted",
            "transaction",
        )
    if -age_ms > max_skew_seconds * 1000:
        raise InputError.single(
            "event_time",
            f"is {-age_ms / 1000:.0f} s in the future; at most {max_skew_seconds} s of clock skew is accepted",
            "transaction",
        )

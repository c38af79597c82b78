"""The append-only decision audit log: one S3 object per transaction id, never overwritten.

The key is a function of the transaction id alone, and the put is conditional
(``If-None-Match: *``): a second decision for the same transaction cannot replace the
first, so a retried request gets the decision already on record. The bucket adds
S3 Object Lock on top, so not even a principal with delete rights can rewrite history
within the retention period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

PREFIX = "decisions"
RECORD_VERSION = 1


def audit_key(transaction_id: str) -> str:
    return f"{PREFIX}/{transaction_id}.json"


@dataclass(frozen=True)
class Recorded:
    key: str
    record: dict[str, Any]
    created: bool  # False: a decision for this transaction was already on record


class AuditLog:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def record(self, transaction_id: str, record: dict[str, Any]) -> Recorded:
        key = audit_key(transaction_id)
        body = json.dumps({"record_version": RECORD_VERSION, **record}, separators=(",", ":"), sort_keys=True)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body.encode(),
                ContentType="application/json",
                IfNoneMatch="*",
                # Object Lock buckets require an integrity checksum on every put.
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            return Recorded(key, self.read(transaction_id), created=False)
        return Recorded(key, {"record_version": RECORD_VERSION, **record}, created=True)

    def read(self, transaction_id: str) -> dict[str, Any]:
        body = self._s3.get_object(Bucket=self._bucket, Key=audit_key(transaction_id))["Body"].read()
        return dict(json.loads(body))

"""Records the consumer will not process, sent to the failure queue with the reason.

Malformed records and events rejected by the window rules (late, from the future) go to
the same SQS queue as the event source mapping's on-failure destination, but with their
data and the reason, and the shard moves on: a bad record never blocks its shard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# SQS messages are at most 256 KiB; a Kinesis record can be 1 MiB.
MAX_DATA_CHARS = 200_000
SQS_BATCH = 10


@dataclass(frozen=True)
class DeadLetter:
    sequence_number: str
    reason: str
    problems: tuple[str, ...] = ()
    partition_key: str = ""
    event_source_arn: str = ""
    data_base64: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> str:
        truncated = len(self.data_base64) > MAX_DATA_CHARS
        return json.dumps(
            {
                "reason": self.reason,
                "problems": list(self.problems),
                "sequence_number": self.sequence_number,
                "partition_key": self.partition_key,
                "event_source_arn": self.event_source_arn,
                "data_base64": self.data_base64[:MAX_DATA_CHARS],
                "data_truncated": truncated,
                **self.extra,
            },
            separators=(",", ":"),
        )


class DeadLetterQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, letters: Sequence[DeadLetter]) -> set[str]:
        """Send all letters; returns the sequence numbers that could not be sent."""
        failed: set[str] = set()
        for start in range(0, len(letters), SQS_BATCH):
            chunk = letters[start : start + SQS_BATCH]
            entries = [{"Id": str(i), "MessageBody": letter.body()} for i, letter in enumerate(chunk)]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed.update(chunk[int(f["Id"])].sequence_number for f in response.get("Failed", []))
        return failed

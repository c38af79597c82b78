"""The inference script on an unpacked artifact, in this process (tests and the benchmark).

It sends the endpoint's JSON body through ``input_fn`` → ``predict_fn`` → ``output_fn``, so
it runs exactly the code the SageMaker endpoint runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fraud_service import inference
from fraud_service.scoring import JSON, Score, ScoringUnavailable, parse_response, request_body


class LocalScorer:
    """The inference script on an unpacked artifact, in this process."""

    def __init__(self, model_dir: Path | str) -> None:
        self._model = inference.model_fn(str(model_dir))

    @property
    def model_version(self) -> str:
        return self._model.model_version

    def score(self, inference_id: str, features: Mapping[str, float | None]) -> Score:
        try:
            data = inference.input_fn(request_body(features), JSON)
            body = inference.output_fn(inference.predict_fn(data, self._model), JSON)
        except ValueError as exc:
            raise ScoringUnavailable(f"model rejected the request: {exc}") from None
        return parse_response(body)

"""CloudFormation custom resource provider (onEvent) for one k-NN index.

Properties (strings, as CloudFormation passes them): `IndexSpec` (JSON of an IndexSpec),
`ReaderRoleArns` / `WriterRoleArns` (JSON lists of IAM role ARNs mapped to index roles under
fine-grained access control) and `DeleteDataOnRemove` ("true" deletes the indices when the
resource is deleted; anything else keeps them, which is the default).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.common.errors import InputError
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_manager import delete_index, ensure_access, ensure_index
from lambdas.vector_search.index_spec import parse_index_spec
from lambdas.vector_search.settings import opensearch_settings

logger = Logger()
tracer = Tracer()


def _role_arns(properties: dict[str, Any], key: str) -> list[str]:
    raw = properties.get(key) or "[]"
    try:
        arns = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InputError.single(key, f"must be a JSON list of role ARNs: {exc}") from exc
    if not isinstance(arns, list) or not all(isinstance(a, str) and a.startswith("arn:") for a in arns):
        raise InputError.single(key, "must be a JSON list of role ARNs")
    return arns


def on_event(event: dict[str, Any], client: OpenSearchClient) -> dict[str, Any]:
    request_type = event["RequestType"]
    properties = event.get("ResourceProperties", {})
    raw_spec = properties.get("IndexSpec")
    if not raw_spec:
        raise InputError.single("IndexSpec", "the custom resource needs an IndexSpec property")
    spec = parse_index_spec(json.loads(raw_spec), "IndexSpec")
    if request_type == "Delete":
        deleted: list[str] = []
        if str(properties.get("DeleteDataOnRemove", "false")).lower() == "true":
            deleted = delete_index(client, spec)
        logger.info("index resource deleted", extra={"alias": spec.name, "deleted_indices": deleted})
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    if request_type not in ("Create", "Update"):
        raise InputError.single("RequestType", f"unknown request type {request_type!r}")
    readers = _role_arns(properties, "ReaderRoleArns")
    writers = _role_arns(properties, "WriterRoleArns")
    result = ensure_index(client, spec)
    roles = ensure_access(client, spec, readers, writers)
    logger.info(
        "index ensured",
        extra={"alias": result.alias, "index": result.index_name, "action": result.action, "roles": roles},
    )
    data = {"Alias": result.alias, "IndexName": result.index_name, "Action": result.action}
    if result.previous_index:
        data["PreviousIndexName"] = result.previous_index
    # The alias is the stable identity: a rebuild behind it is not a replacement to CloudFormation.
    return {"PhysicalResourceId": spec.name, "Data": data}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return on_event(event, opensearch_settings().client())
    except InputError as exc:
        # The provider framework reports the message to CloudFormation as the failure reason.
        logger.error("index request refused", extra={"problems": exc.lines()})
        raise RuntimeError(str(exc)) from exc

"""Acknowledging cdk-nag findings on one specific construct, with a reason.

cdk-nag 3 reports findings through CDK policy validation; an acknowledgement is recorded
as construct metadata by `Validations.of(construct).acknowledge`. Findings about particular
IAM actions or resources (IAM5) carry a suffix such as `[Action::s3:Get*]`, so each one is
acknowledged separately: a blanket acknowledgement would hide the next wildcard someone adds.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import IConstruct

_METADATA_PREFIX = "Annotation::"
MIN_REASON_LENGTH = 25


@dataclass(frozen=True)
class AcknowledgementRecord:
    """One acknowledgement found in a construct tree."""

    path: str
    rule: str
    reason: str


def acknowledge(
    construct: IConstruct,
    rule_id: str,
    reason: str,
    applies_to: Sequence[str] = (),
) -> None:
    """Acknowledge `rule_id` (e.g. ``"AwsSolutions-IAM5"``) on `construct` and its children.

    `applies_to` narrows the acknowledgement to named findings such as
    ``"Action::xray:PutTraceSegments"`` or ``"Resource::*"``; a rule that reports such
    findings must be acknowledged finding by finding.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledgement of {rule_id} on {construct.node.path} needs a specific reason "
            f"(at least {MIN_REASON_LENGTH} characters), got {reason!r}"
        )
    ids = [f"{rule_id}[{item}]" for item in applies_to] if applies_to else [rule_id]
    _validations(construct).acknowledge(*(cdk.Acknowledgment(id=i, reason=reason) for i in ids))


# Each `Validations.of` and `Stack.of` is a jsii round trip, and a construct often gets several
# acknowledgements (a role one per wildcard grant): they are looked up once per construct.
_VALIDATIONS: weakref.WeakKeyDictionary[IConstruct, cdk.Validations] = weakref.WeakKeyDictionary()
_STACKS: weakref.WeakKeyDictionary[IConstruct, cdk.Stack] = weakref.WeakKeyDictionary()
# Shared resources (a shard's functions, buckets) are acknowledged once per model: a value is
# resolved once per stack. The values are resource attributes (ARNs), which resolve the same
# whenever they are read; were one to change, the acknowledgement would miss its finding and
# synth would fail, not pass silently.
_FLATTENED: weakref.WeakKeyDictionary[cdk.Stack, dict[str, str]] = weakref.WeakKeyDictionary()


def _validations(construct: IConstruct) -> cdk.Validations:
    found = _VALIDATIONS.get(construct)
    if found is None:
        found = _VALIDATIONS[construct] = cdk.Validations.of(construct)
    return found


def _stack(construct: IConstruct) -> cdk.Stack:
    found = _STACKS.get(construct)
    if found is None:
        found = _STACKS[construct] = cdk.Stack.of(construct)
    return found


def acknowledgements(root: IConstruct) -> Iterator[AcknowledgementRecord]:
    """Every acknowledgement recorded on `root` and below, in tree order."""
    for node in root.node.find_all():
        for entry in node.node.metadata:
            if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for key, reason in dict(entry.data).items():
                rule = key.removeprefix(_METADATA_PREFIX)
                yield AcknowledgementRecord(node.node.path, rule, str(reason))


# --------------------------------------------------------------------------- IAM5 findings
#: Action wildcards that aws-cdk-lib's grant methods emit. Each spans the variants of one
#: action (GetObject, GetObjectVersion, ...) on the granted resource only.
S3_READ_ACTIONS = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")
S3_WRITE_ACTIONS = ("s3:DeleteObject*", "s3:Abort*")
KMS_ACTIONS = ("kms:ReEncrypt*", "kms:GenerateDataKey*")


def flatten_reference(scope: IConstruct, value: object) -> str:
    """The string cdk-nag uses for a resource in an IAM5 finding (its `flattenCfnReference`).

    Works for values of `scope`'s own stack and for literals; a value imported from another
    stack flattens to its export name, so pass cross-stack resources by literal name instead.
    """
    if isinstance(value, str):
        # Pseudo parameters (partition, region, account) flatten by name, as cdk-nag spells a
        # Ref to them; a string with no other token then needs no round trip to jsii.
        local = _PSEUDO_PARAMETER.sub(lambda found: f"<AWS::{found.group(1)}>", value)
        if "${Token[" not in local:
            return _flatten(local)
    stack = _stack(scope)
    if not isinstance(value, str):
        return _flatten(stack.resolve(value))
    flattened = _FLATTENED.setdefault(stack, {})
    if value not in flattened:
        flattened[value] = _flatten(stack.resolve(value))
    return flattened[value]


#: How jsii hands the tokens of `cdk.Aws` pseudo parameters to Python.
_PSEUDO_PARAMETER = re.compile(r"\$\{Token\[AWS\.(Partition|Region|AccountId|URLSuffix)\.\d+\]\}")


def _flatten(node: object) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_wildcards(
    construct: IConstruct,
    reason: str,
    *,
    actions: Sequence[str] = (),
    resources: Sequence[object] = (),
) -> None:
    """Acknowledge IAM5 findings for these wildcard actions and resources on `construct` only.

    `resources` are ARN values as passed to the policy statement (tokens of the same stack
    or literals), e.g. ``bucket.arn_for_objects("offline/*")``.
    """
    findings = [f"Action::{a}" for a in actions] + [
        f"Resource::{flatten_reference(construct, r)}" for r in resources
    ]
    acknowledge(construct, "AwsSolutions-IAM5", reason, applies_to=findings)

"""Amazon States Language as plain data: the pieces of a state machine definition, no CDK.

A state machine written with aws-cdk-lib's state classes costs a jsii round trip per state,
retry, catch and transition, about 250 per retraining pipeline, and synth time grows with
every model. The same definition built here as dicts costs nothing until the construct hands
it over in one piece (`DefinitionBody.from_string`). Values may be CDK token strings (ARNs,
names); they pass through untouched and are resolved when the definition is serialised.

`JsonPath` marks a value that Step Functions reads from the state (`$.x`, `$$.Execution.Id`
or an intrinsic function): `render` writes its key as ``"key.$"``, as the language wants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The retry aws-cdk-lib's LambdaInvoke adds by default: transient Lambda service errors.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
LAMBDA_THROTTLING = ("Lambda.TooManyRequestsException",)
ALL_ERRORS = ("States.ALL",)


class JsonPath(str):
    """A value read from the execution's state or context, e.g. ``JsonPath("$.lock.run_id")``."""

    __slots__ = ()


EXECUTION_ID = JsonPath("$$.Execution.Id")
TASK_TOKEN = JsonPath("$$.Task.Token")
ENTIRE_STATE = JsonPath("$")


def render(value: Any) -> Any:
    """`value` with every `JsonPath` under a ``"key.$"`` key, ready to serialise.

    Keys whose value is None are left out, as aws-cdk-lib leaves them out of a task's payload:
    the step then sees the field missing and takes its default.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, JsonPath):
                out[f"{key}.$"] = str(item)
            else:
                out[str(key)] = render(item)
        return out
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, JsonPath) for item in value):
            raise ValueError(f"a JSONPath cannot be a list item in Amazon States Language: {value!r}")
        return [render(item) for item in value]
    return value


def retry(
    errors: Sequence[str],
    *,
    interval_seconds: int,
    max_attempts: int,
    backoff_rate: float,
    full_jitter: bool = False,
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ErrorEquals": list(errors),
        "IntervalSeconds": interval_seconds,
        "MaxAttempts": max_attempts,
        "BackoffRate": backoff_rate,
    }
    if full_jitter:
        rule["JitterStrategy"] = "FULL"
    return rule


def throttling_retry(errors: Sequence[str]) -> dict[str, Any]:
    """Throttled calls: 5 attempts from 2 s, doubling, with full jitter."""
    return retry(errors, interval_seconds=2, max_attempts=5, backoff_rate=2, full_jitter=True)


LAMBDA_RETRIES = (
    retry(LAMBDA_SERVICE_ERRORS, interval_seconds=2, max_attempts=6, backoff_rate=2),
    throttling_retry(LAMBDA_THROTTLING),
)


def catch(next_state: str, result_path: str | None, errors: Sequence[str] = ALL_ERRORS) -> dict[str, Any]:
    return {"ErrorEquals": list(errors), "Next": next_state, "ResultPath": result_path}


def lambda_task(
    function_arn: str,
    *,
    payload: Mapping[str, Any] | None = None,
    result_path: str | None,
    input_path: str | None = None,
    then: str | None = None,
    catches: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A Lambda invoke whose result is the function's response (no invocation metadata)."""
    state: dict[str, Any] = {"Type": "Task", "Resource": function_arn}
    if input_path is not None:
        state["InputPath"] = input_path
    if payload is not None:
        state["Parameters"] = render(payload)
    state["ResultPath"] = result_path
    state["Retry"] = [dict(r) for r in LAMBDA_RETRIES]
    if catches:
        state["Catch"] = list(catches)
    return _then(state, then)


def pass_state(parameters: Mapping[str, Any], *, result_path: str, then: str | None = None) -> dict[str, Any]:
    return _then({"Type": "Pass", "Parameters": render(parameters), "ResultPath": result_path}, then)


def wait(seconds: int, then: str) -> dict[str, Any]:
    return {"Type": "Wait", "Seconds": seconds, "Next": then}


def fail(error: str, cause_path: str) -> dict[str, Any]:
    return {"Type": "Fail", "Error": error, "CausePath": cause_path}


def string_equals(variable: str, value: str) -> dict[str, Any]:
    return {"Variable": variable, "StringEquals": value}


def choice(branches: Sequence[tuple[dict[str, Any], str]], default: str) -> dict[str, Any]:
    """A Choice state: the first condition that holds names the next state, else `default`."""
    return {
        "Type": "Choice",
        "Choices": [{**condition, "Next": target} for condition, target in branches],
        "Default": default,
    }


def parallel(
    start_at: str,
    states: Mapping[str, dict[str, Any]],
    *,
    comment: str,
    then: str,
    retries: Sequence[dict[str, Any]] = (),
    catches: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A one-branch Parallel state whose output is the branch's output (``$[0]``)."""
    state: dict[str, Any] = {
        "Type": "Parallel",
        "Comment": comment,
        "Branches": [{"StartAt": start_at, "States": dict(states)}],
        "OutputPath": "$[0]",
    }
    if retries:
        state["Retry"] = list(retries)
    if catches:
        state["Catch"] = list(catches)
    return _then(state, then)


def _then(state: dict[str, Any], then: str | None) -> dict[str, Any]:
    if then is None:
        state["End"] = True
    else:
        state["Next"] = then
    return state


def check_graph(states: Mapping[str, Mapping[str, Any]], start_at: str, where: str = "") -> None:
    """Every transition names a state of its own graph and every state is reachable: the checks
    aws-cdk-lib makes of a chain, which a definition written as data must make itself."""
    names = set(states)
    reached: set[str] = set()
    todo = [start_at]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        if name not in names:
            raise ValueError(
                f"{where or 'definition'}: a transition names {name!r}, which is not a state here"
            )
        reached.add(name)
        state = states[name]
        todo += _targets(state)
        for branch in state.get("Branches", ()):
            check_graph(branch["States"], branch["StartAt"], f"{where}{name}/")
    unreachable = sorted(names - reached)
    if unreachable:
        raise ValueError(f"{where or 'definition'}: states {unreachable} cannot be reached")


def _targets(state: Mapping[str, Any]) -> list[str]:
    targets = [state[k] for k in ("Next", "Default") if k in state]
    targets += [c["Next"] for c in state.get("Choices", ())]
    targets += [c["Next"] for c in state.get("Catch", ())]
    return targets

"""Adding policy statements to a principal in as few jsii round trips as the principal allows."""

from __future__ import annotations

from aws_cdk import aws_iam as iam


def add_statement(principal: iam.IPrincipal, statement: iam.PolicyStatement) -> None:
    """Add `statement` to `principal`'s policy (its default policy for a role).

    `add_to_principal_policy` returns a struct, and jsii fetches each of its two fields from
    Node: three round trips per statement, which added up to 0.5 s per 50 models of synth.
    A role's `add_to_policy` does the same and returns a boolean, in one.
    """
    if isinstance(principal, iam.Role):
        principal.add_to_policy(statement)
    else:
        principal.add_to_principal_policy(statement)

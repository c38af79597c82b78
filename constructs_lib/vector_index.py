"""`KnnIndex`: one k-NN index as a custom resource on a VectorSearchDomain.

The spec is validated at synth time (the same IndexSpec model the handler uses), so a
faiss + cosinesimil index or a bad lifecycle fails `cdk synth`, not the deployment.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.vector_search import VectorSearchDomain
from lambdas.vector_search.index_spec import IndexSpec


@jsii.implements(cdk.IStableStringProducer)
class _RoleArnList:
    def __init__(self, stack: cdk.Stack, roles: list[iam.IRole]) -> None:
        self._stack = stack
        self._roles = roles

    def produce(self) -> str:
        return self._stack.to_json_string([role.role_arn for role in self._roles])


class KnnIndex(Construct):
    """Creates/updates the index behind `spec.name` (an alias), its ISM policy and FGAC roles.

    `readers` / `writers` (and later `grant_read` / `grant_write`) get both the IAM permission
    on the domain and an OpenSearch role mapping scoped to this index. Deleting the resource
    keeps the data unless `delete_data_on_remove` is set.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: VectorSearchDomain,
        spec: IndexSpec,
        readers: Sequence[iam.IRole] = (),
        writers: Sequence[iam.IRole] = (),
        delete_data_on_remove: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.domain = domain
        self._readers: list[iam.IRole] = []
        self._writers: list[iam.IRole] = []
        stack = cdk.Stack.of(self)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=domain.provider.service_token,
            resource_type="Custom::KnnIndex",
            properties={
                "IndexSpec": spec.model_dump_json(),
                # Lazy, so roles granted after construction still reach the role mapping.
                "ReaderRoleArns": cdk.Lazy.string(_RoleArnList(stack, self._readers)),
                "WriterRoleArns": cdk.Lazy.string(_RoleArnList(stack, self._writers)),
                "DeleteDataOnRemove": "true" if delete_data_on_remove else "false",
            },
            removal_policy=cdk.RemovalPolicy.RETAIN
            if not delete_data_on_remove
            else cdk.RemovalPolicy.DESTROY,
        )
        for role in readers:
            self.grant_read(role)
        for role in writers:
            self.grant_write(role)

    @property
    def alias(self) -> str:
        return self.spec.name

    @property
    def index_name(self) -> str:
        """The physical index currently behind the alias (changes on an alias swap)."""
        return self.resource.get_att_string("IndexName")

    def grant_read(self, role: iam.IRole) -> iam.Grant:
        self._readers.append(role)
        return self.domain.grant_read(role, indices=[self.alias, f"{self.alias}-*"])

    def grant_write(self, role: iam.IRole) -> iam.Grant:
        self._writers.append(role)
        return self.domain.grant_write(role, indices=[self.alias, f"{self.alias}-*"])

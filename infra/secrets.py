"""Broker secrets: SSM SecureStrings under `/basketgraph/<stage>/brokers/<sub>/...`, encrypted with our KMS key.

Each function gets only the part of the path it needs (read or write) and the key only through SSM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

if TYPE_CHECKING:
    from infra.stages import Stage

READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters")
WRITE_ACTIONS = ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource")


class SecretsConstruct(Construct):
    """The KMS key for SecureStrings and grants scoped to SSM paths."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.prefix = stage.secrets_prefix
        self.feed_token_path = f"/basketgraph/{stage.name}/feed/kite/access_token"
        # The deployment's own Kite app secret (postback checksums, logins without a user's own app);
        # the operator puts it there, the template never holds it.
        self.kite_app_secret_path = f"/basketgraph/{stage.name}/app/kite/api_secret"
        self.key = kms.Key(
            self,
            "BrokerSecretsKey",
            alias=f"alias/{stage.prefix}-broker-secrets",
            description=f"basketgraph {stage.name}: broker credentials in SSM Parameter Store",
            enable_key_rotation=True,
            removal_policy=stage.removal_policy,
        )

    def parameter_arn(self, path: str) -> str:
        stack = Stack.of(self)
        return f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:parameter{path}"

    def nag_parameter_arn(self, path: str) -> str:
        """`parameter_arn` as cdk-nag prints it in a finding id."""
        return f"arn:<AWS::Partition>:ssm:{Stack.of(self).region}:<AWS::AccountId>:parameter{path}"

    def grant(self, grantee: iam.IGrantable, path: str, *, write: bool = False) -> None:
        """Read (and with `write`, change) parameters under `path` (a trailing `/*` means the subtree).

        KMS use is limited to calls SSM makes on the caller's behalf for those parameters.
        """
        actions = [*READ_ACTIONS, *(WRITE_ACTIONS if write else ())]
        iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[self.parameter_arn(path)])
        key_actions = ["kms:Decrypt", *(["kms:Encrypt", "kms:GenerateDataKey"] if write else [])]
        stack = Stack.of(self)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=key_actions,
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"ssm.{stack.region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": self.parameter_arn(path)},
                },
            )
        )

    def grant_users(self, grantee: iam.IGrantable, *, write: bool = False) -> None:
        """Every user's broker secrets: `<prefix>/*` (the Lambdas act for whichever user calls)."""
        self.grant(grantee, f"{self.prefix}/*", write=write)

"""Cognito: the user pool AppSync trusts by default, its app client, and the traders/admins groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.nag import acknowledge

if TYPE_CHECKING:
    from infra.stages import Stage

GROUPS = ("traders", "admins")


class AuthConstruct(Construct):
    """Email sign-in, a strong password policy, optional TOTP MFA, an app client without a secret."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{stage.prefix}-users",
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            self_sign_up_enabled=False,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=stage.deletion_protection,
            removal_policy=stage.removal_policy,
        )
        self.client = self.user_pool.add_client(
            "AppClient",
            user_pool_client_name=f"{stage.prefix}-app",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        for group in GROUPS:
            cognito.CfnUserPoolGroup(
                self, f"Group{group.title()}", user_pool_id=self.user_pool.user_pool_id, group_name=group
            )
        acknowledge(
            self.user_pool,
            "MFA is optional by design (issue 5): people turn on TOTP; bots sign in with a password.",
            "AwsSolutions-COG2",
        )
        acknowledge(
            self.user_pool,
            "Threat protection needs the Cognito Plus plan (billed per user); the pool has no self sign-up.",
            "AwsSolutions-COG3",
            "AwsSolutions-COG8",
        )

"""cdk-nag (v3, CDK's Validations API): acknowledge a finding on a construct, always with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk

if TYPE_CHECKING:
    from constructs import IConstruct


def acknowledge(construct: IConstruct, reason: str, *finding_ids: str) -> None:
    """Acknowledge each finding id (e.g. `AwsSolutions-IAM5[Resource::...]`) on `construct` and below."""
    if not reason.strip():
        raise ValueError("every cdk-nag acknowledgment needs a written reason")
    cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=rule, reason=reason) for rule in finding_ids))

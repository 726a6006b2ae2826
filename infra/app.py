"""The CDK app: `cdk synth` / `cdk deploy` (ap-south-1 by default)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import aws_cdk as cdk

from infra.tables import TablesConstruct

if TYPE_CHECKING:
    from constructs import Construct

TABLE_NAME_OUTPUT = "TableName"


class BasketgraphStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        tables = TablesConstruct(self, "Tables")
        cdk.CfnOutput(self, TABLE_NAME_OUTPUT, value=tables.table.table_name)


def build(app: cdk.App) -> BasketgraphStack:
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION", "ap-south-1")
    )
    return BasketgraphStack(app, "Basketgraph", env=env)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()

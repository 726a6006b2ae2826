"""AppSync from `schema/schema.graphql`: Cognito by default, IAM for the publish mutations.

Every Lambda-resolved root field (`infra.schema_fields`) gets a resolver on the resolver Lambda, with
`resolvers/response.js` around it (it passes the direct-resolver event through and turns the Lambda's
`{"error": {type, message}}` into a typed GraphQL error). Publish mutations run a two-step pipeline:
record the event id once in the table, then echo the event from a NONE data source.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.schema_fields import SCHEMA_FILE, schema_fields
from schema.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_

    from infra.stages import Stage

ROOT = Path(__file__).resolve().parents[1]
RESPONSE_JS = ROOT / "resolvers" / "response.js"
APPSYNC_JS = Path(__file__).with_name("appsync")
JS_RUNTIME = {"name": "APPSYNC_JS", "runtimeVersion": "1.0.0"}


class ApiConstruct(Construct):
    """The GraphQL API, its Lambda resolvers, the publish pipeline, and its own log group and roles."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        user_pool: cognito.IUserPool,
        resolver: lambda_.IFunction,
        table: dynamodb.TableV2,
        schema_file: Path = SCHEMA_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        log_role = iam.Role(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"),
            description="AppSync writes its own request and field logs",
        )
        self.api = appsync.GraphqlApi(
            self,
            "Api",
            name=f"{stage.prefix}-api",
            definition=appsync.Definition.from_file(str(schema_file)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.USER_POOL,
                    user_pool_config=appsync.UserPoolConfig(user_pool=user_pool),
                ),
                additional_authorization_modes=[
                    appsync.AuthorizationMode(authorization_type=appsync.AuthorizationType.IAM)
                ],
            ),
            xray_enabled=stage.tracing,
            query_depth_limit=QUERY_DEPTH_LIMIT,
            resolver_count_limit=RESOLVER_COUNT_LIMIT,
        )
        # Set on the L1: the L2's log_config adds a LogRetention custom resource (a Node Lambda with a
        # managed policy). AppSync logs to /aws/appsync/apis/<api id>, created here with the retention.
        cfn_api: appsync.CfnGraphQLApi = self.api.node.default_child  # type: ignore[assignment]
        cfn_api.log_config = appsync.CfnGraphQLApi.LogConfigProperty(
            cloud_watch_logs_role_arn=log_role.role_arn,
            field_log_level="ALL" if stage.tracing else "ERROR",
            exclude_verbose_content=not stage.tracing,
        )
        if not stage.tracing:
            acknowledge(
                self.api,
                "Prod logs field errors without verbose content: verbose request logs would store request "
                "headers (the callers' Cognito tokens) and arguments. Dev and staging log everything.",
                "AwsSolutions-ASC3",
            )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/appsync/apis/{self.api.api_id}",
            retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        log_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        fields = schema_fields(schema_file)
        self.publish_mutations = sorted(fields.publish_mutations)
        self.lambda_source = self.api.add_lambda_data_source(
            "ResolverLambda", resolver, name="ResolverLambda", description="the resolver Lambda"
        )
        response_js = appsync.Code.from_inline(RESPONSE_JS.read_text())
        self.resolvers: dict[tuple[str, str], appsync.Resolver] = {}
        for type_name, field_name in sorted(fields.lambda_fields):
            self.resolvers[(type_name, field_name)] = self.lambda_source.create_resolver(
                f"{type_name}{field_name[0].upper()}{field_name[1:]}",
                type_name=type_name,
                field_name=field_name,
                runtime=appsync.FunctionRuntime.JS_1_0_0,
                code=response_js,
            )
        self._publish_pipeline(table, sorted(fields.publish_mutations))
        stack = Stack.of(self)
        resolver_id = stack.resolve(stack.get_logical_id(resolver.node.default_child))  # type: ignore[arg-type]
        acknowledge(
            self.lambda_source,
            "CDK grants AppSync lambda:InvokeFunction on the resolver function and its versions (ARN:*); "
            "nothing else is invocable.",
            f"AwsSolutions-IAM5[Resource::<{resolver_id}.Arn>:*]",
        )

    def _publish_pipeline(self, table: dynamodb.TableV2, mutations: list[str]) -> None:
        """deliver_once.js (DynamoDB, PutItem of EVENT#<id> only) then echo_event.js (NONE)."""
        role = iam.Role(
            self,
            "DeliveriesRole",
            assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"),
            description="Publish mutations record each event id once",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["EVENT#*"]}},
            )
        )
        deliveries = appsync.CfnDataSource(
            self,
            "Deliveries",
            api_id=self.api.api_id,
            name="Deliveries",
            type="AMAZON_DYNAMODB",
            description="marker items: an event id is delivered once",
            service_role_arn=role.role_arn,
            dynamo_db_config=appsync.CfnDataSource.DynamoDBConfigProperty(
                aws_region=Stack.of(self).region, table_name=table.table_name
            ),
        )
        self.none_source = self.api.add_none_data_source("Events", name="Events", description="publish mutations")
        deliver_once = appsync.CfnFunctionConfiguration(
            self,
            "DeliverOnce",
            api_id=self.api.api_id,
            name="deliverOnce",
            data_source_name=deliveries.attr_name,
            runtime=JS_RUNTIME,
            code=(APPSYNC_JS / "deliver_once.js").read_text(),
        )
        echo = appsync.CfnFunctionConfiguration(
            self,
            "EchoEvent",
            api_id=self.api.api_id,
            name="echoEvent",
            data_source_name=self.none_source.name,
            runtime=JS_RUNTIME,
            code=(APPSYNC_JS / "echo_event.js").read_text(),
        )
        echo.node.add_dependency(self.none_source)
        deliveries.node.add_dependency(role)
        self.publish_resolvers: dict[str, appsync.CfnResolver] = {}
        for mutation in mutations:
            resolver = appsync.CfnResolver(
                self,
                f"Mutation{mutation[0].upper()}{mutation[1:]}",
                api_id=self.api.api_id,
                type_name="Mutation",
                field_name=mutation,
                kind="PIPELINE",
                pipeline_config=appsync.CfnResolver.PipelineConfigProperty(
                    functions=[deliver_once.attr_function_id, echo.attr_function_id]
                ),
                runtime=JS_RUNTIME,
                code=(APPSYNC_JS / "pipeline.js").read_text(),
            )
            self.api.add_schema_dependency(resolver)
            self.publish_resolvers[mutation] = resolver

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """appsync:GraphQL on the publish mutation fields only."""
        self.api.grant_mutation(grantee, *self.publish_mutations)

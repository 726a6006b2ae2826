"""The synthesized stacks (dev, staging, prod): API, functions, stream, secrets, schedules, feed, alarms."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match

from infra import functions as fn
from infra.api import RESPONSE_JS
from infra.app import (
    ALARM_TOPIC_OUTPUT,
    GRAPHQL_URL_OUTPUT,
    POSTBACK_URL_OUTPUT,
    SECRETS_PREFIX_OUTPUT,
    STREAM_DLQ_OUTPUT,
    TABLE_NAME_OUTPUT,
    USER_POOL_CLIENT_ID_OUTPUT,
    USER_POOL_ID_OUTPUT,
)
from infra.schedules import INSTRUMENTS_CRON, RECONCILE_CRON, SQUARE_OFF_CRON, TIMEZONE
from infra.schema_fields import schema_fields
from infra.stages import STAGES
from infra.streams import MAX_RETRIES
from schema.aws import AwsSubscribe
from schema.export import build_schema
from schema.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT
from schema.operations import Subscription
from store.spec import (
    DELIVERY_TTL_SECONDS,
    INDEXES,
    STREAM_MAX_RECORD_AGE_SECONDS,
    TTL_ATTRIBUTE,
    table_definition,
)

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized

DATA_SERVICES = ("dynamodb:", "ssm:", "kms:")


def _lambda_fields_from_the_schema_code() -> set[tuple[str, str]]:
    """Root fields of the strawberry schema, less the mutations subscriptions listen to (publish)."""
    graphql_schema = build_schema()._schema
    published = {
        mutation
        for field in Subscription.__strawberry_definition__.fields
        for directive in field.directives
        if isinstance(directive, AwsSubscribe)
        for mutation in directive.mutations
    }
    roots = (graphql_schema.query_type, graphql_schema.mutation_type, graphql_schema.subscription_type)
    return {
        (root.name, name)
        for root in roots
        if root is not None
        for name in root.fields
        if not (root is graphql_schema.mutation_type and name in published)
    }


def _data_source_types(synth: Synthesized) -> dict[str, str]:
    """Data source logical id and name -> its type."""
    by: dict[str, str] = {}
    for logical_id, source in synth.resources("AWS::AppSync::DataSource").items():
        by[logical_id] = by[source["Properties"]["Name"]] = source["Properties"]["Type"]
    return by


def _data_source_of(resolver: dict[str, Any]) -> str:
    name = resolver["Properties"]["DataSourceName"]
    return name["Fn::GetAtt"][0] if isinstance(name, dict) else name


def _statements(synth: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every inline policy statement in the template."""
    found = []
    for logical_id, policy in synth.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, statement))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_function_reads_the_deployments_kite_secret_from_ssm_and_the_template_holds_none(
    dev: Synthesized,
) -> None:
    path = "/basketgraph/dev/app/kite/api_secret"
    functions = dev.resources("AWS::Lambda::Function")
    for function in functions.values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["KITE_API_SECRET_PARAMETER"] == path
        assert "KITE_API_SECRET" not in env
    readers = [
        s
        for _, s in _statements(dev)
        if "ssm:GetParameter" in _as_list(s["Action"])
        and any(json.dumps(r).endswith(f':parameter{path}"]]}}') for r in _as_list(s["Resource"]))
    ]
    assert readers and all("ssm:PutParameter" not in _as_list(s["Action"]) for s in readers)
    assert "api_secret" not in json.dumps(dev.raw).replace(path, "")


def _role_policy_statements(synth: Synthesized, function_logical_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, statement in _statements(synth)
        if logical_id.startswith(f"Functions{function_logical_prefix}Role")
    ]


def test_every_lambda_resolved_field_of_the_schema_code_has_a_resolver_on_the_lambda(dev: Synthesized) -> None:
    # Given the schema code's root fields, less the publish mutations
    expected = _lambda_fields_from_the_schema_code()
    # When the API's Lambda-backed resolvers are read from the template
    types = _data_source_types(dev)
    on_lambda = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"])
        for r in dev.resources("AWS::AppSync::Resolver").values()
        if "DataSourceName" in r["Properties"] and types[_data_source_of(r)] == "AWS_LAMBDA"
    }
    # Then they are the same set, and the infra's own reading of schema.graphql agrees
    assert on_lambda == expected
    assert schema_fields().lambda_fields == expected
    assert ("Subscription", "onPnl") in on_lambda  # the owner check runs on subscribe


def test_lambda_resolvers_run_the_response_function_that_types_errors(dev: Synthesized) -> None:
    code = RESPONSE_JS.read_text()
    for resolver in dev.resources("AWS::AppSync::Resolver").values():
        props = resolver["Properties"]
        if props.get("Kind") == "PIPELINE":
            continue
        assert props["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
        assert props["Code"] == code


def test_publish_mutations_are_iam_only_and_resolved_by_appsync_on_a_none_data_source(dev: Synthesized) -> None:
    schema = build_schema()._schema
    publish = schema_fields().publish_mutations
    assert publish == {"publishOrderUpdate", "publishFill", "publishPnl", "publishBasketUpdate", "publishRiskState"}
    mutation = schema.mutation_type
    assert mutation is not None
    for name in publish:
        # @aws_iam on the field overrides the type's @aws_cognito_user_pools: IAM callers only
        assert name in mutation.fields
        assert _sdl_field_directives("Mutation", name) == {"aws_iam"}, name

    types = _data_source_types(dev)
    functions = dev.resources("AWS::AppSync::FunctionConfiguration")
    function_sources = {
        logical_id: types[f["Properties"]["DataSourceName"]["Fn::GetAtt"][0]]
        if isinstance(f["Properties"]["DataSourceName"], dict)
        else types[f["Properties"]["DataSourceName"]]
        for logical_id, f in functions.items()
    }
    pipelines = {
        r["Properties"]["FieldName"]: r["Properties"]
        for r in dev.resources("AWS::AppSync::Resolver").values()
        if r["Properties"].get("Kind") == "PIPELINE"
    }
    assert set(pipelines) == publish
    for props in pipelines.values():
        assert props["TypeName"] == "Mutation"
        steps = [step["Fn::GetAtt"][0] for step in props["PipelineConfig"]["Functions"]]
        # Then: record the event id once (DynamoDB), then echo the event from a NONE data source
        assert [function_sources[step] for step in steps] == ["AMAZON_DYNAMODB", "NONE"]


def _sdl_field_directives(type_name: str, field_name: str) -> set[str]:
    from infra.schema_fields import directives_of, load

    built = load()
    root = built.get_type(type_name)
    return directives_of(root.fields[field_name].ast_node)  # type: ignore[union-attr]


def test_the_deliveries_data_source_may_only_put_event_markers(dev: Synthesized) -> None:
    role_ids = [
        logical_id
        for logical_id, role in dev.resources("AWS::IAM::Role").items()
        if logical_id.startswith("ApiDeliveriesRole")
    ]
    assert len(role_ids) == 1
    statements = [s for logical_id, s in _statements(dev) if logical_id.startswith("ApiDeliveriesRole")]
    (statement,) = statements
    assert statement["Action"] == "dynamodb:PutItem"
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["EVENT#*"]}}
    table, attribute = statement["Resource"]["Fn::GetAtt"]
    assert dev.raw["Resources"][table]["Type"] == "AWS::DynamoDB::GlobalTable"
    assert attribute == "Arn"


def test_api_uses_the_user_pool_by_default_and_iam_as_well(dev: Synthesized, prod: Synthesized) -> None:
    dev.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {
            "AuthenticationType": "AMAZON_COGNITO_USER_POOLS",
            "AdditionalAuthenticationProviders": [{"AuthenticationType": "AWS_IAM"}],
            "XrayEnabled": True,
            "LogConfig": Match.object_like({"FieldLogLevel": "ALL"}),
        },
    )
    prod.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {"XrayEnabled": False, "LogConfig": Match.object_like({"FieldLogLevel": "ERROR"})},
    )
    schema = dev.resources("AWS::AppSync::GraphQLSchema")
    (definition,) = (s["Properties"]["Definition"] for s in schema.values())
    from infra.schema_fields import SCHEMA_FILE

    assert definition == SCHEMA_FILE.read_text()


def test_api_has_the_query_limits_the_emulator_enforces(prod: Synthesized) -> None:
    prod.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {"QueryDepthLimit": QUERY_DEPTH_LIMIT, "ResolverCountLimit": RESOLVER_COUNT_LIMIT},
    )


def test_event_source_mapping_reports_partial_failures_bisects_retries_boundedly_and_dead_letters(
    stages: dict[str, Synthesized],
) -> None:
    for synth in stages.values():
        (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 <= props["MaximumRetryAttempts"] == MAX_RETRIES <= 10
        assert props["MaximumRecordAgeInSeconds"] == STREAM_MAX_RECORD_AGE_SECONDS
        assert props["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
        dlq = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert synth.raw["Resources"][dlq]["Type"] == "AWS::SQS::Queue"
        assert props["FunctionName"]["Ref"].startswith("FunctionsStream")


def test_delivery_markers_outlive_every_redelivery_of_their_record(stages: dict[str, Synthesized]) -> None:
    """A record is handed to the stream Lambda until it is MaximumRecordAgeInSeconds old; the marker of an
    event it published is written after the record was, so a TTL past that age outlives every redelivery."""
    for synth in stages.values():
        (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
        max_age = mapping["Properties"]["MaximumRecordAgeInSeconds"]
        assert 60 <= max_age < DELIVERY_TTL_SECONDS <= max_age + 3600
        (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
        assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


@pytest.mark.parametrize("stage", list(STAGES))
def test_table_follows_the_store_spec(stages: dict[str, Synthesized], stage: str) -> None:
    synth = stages[stage]
    synth.template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "TableName": f"basketgraph-{stage}-trading",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": Match.object_like({"SSEEnabled": True}),
        },
    )
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
    indexes = {
        index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
        for index in table["Properties"]["GlobalSecondaryIndexes"]
    }
    assert indexes == INDEXES
    assert all(i["Projection"] == {"ProjectionType": "ALL"} for i in table["Properties"]["GlobalSecondaryIndexes"])
    attributes = {a["AttributeName"]: a["AttributeType"] for a in table["Properties"]["AttributeDefinitions"]}
    assert attributes == {name: "S" for name in ("PK", "SK", *(k for keys in INDEXES.values() for k in keys))}
    # The very definition the local stack creates its table from
    local = table_definition("local")
    assert table["Properties"]["KeySchema"] == local["KeySchema"]
    assert sorted(table["Properties"]["AttributeDefinitions"], key=str) == sorted(
        local["AttributeDefinitions"], key=str
    )
    deployed = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["Properties"]["GlobalSecondaryIndexes"]
    }
    assert deployed == {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in local["GlobalSecondaryIndexes"]}
    assert (
        table["Properties"]["StreamSpecification"]["StreamViewType"] == local["StreamSpecification"]["StreamViewType"]
    )


def test_prod_retains_its_data_and_dev_can_be_destroyed(stages: dict[str, Synthesized]) -> None:
    def table_of(stage: str) -> dict[str, Any]:
        (table,) = stages[stage].resources("AWS::DynamoDB::GlobalTable").values()
        return table

    prod = table_of("prod")
    assert prod["DeletionPolicy"] == "Retain"
    assert prod["UpdateReplacePolicy"] == "Retain"
    (replica,) = prod["Properties"]["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is True
    (pool,) = stages["prod"].resources("AWS::Cognito::UserPool").values()
    assert pool["DeletionPolicy"] == "Retain"
    assert stages["prod"].stack.termination_protection is True

    dev = table_of("dev")
    assert dev["DeletionPolicy"] == "Delete"
    assert stages["dev"].stack.termination_protection is False
    staging = table_of("staging")
    (replica,) = staging["Properties"]["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_names_differ_by_stage(stages: dict[str, Synthesized]) -> None:
    names = {
        stage: sorted(f["Properties"]["FunctionName"] for f in s.resources("AWS::Lambda::Function").values())
        for stage, s in stages.items()
    }
    assert names["dev"] == sorted(f"basketgraph-dev-{key}" for key in fn.SPECS)
    assert not set(names["dev"]) & set(names["prod"])
    assert {s.stack.stack_name for s in stages.values()} == {f"Basketgraph-{stage}" for stage in STAGES}
    assert all(s.stack.region == "ap-south-1" for s in stages.values())


def test_no_iam_statement_grants_every_action_or_every_data_resource(stages: dict[str, Synthesized]) -> None:
    for synth in stages.values():
        for logical_id, statement in _statements(synth):
            actions = _as_list(statement["Action"])
            assert not [a for a in actions if a == "*" or a.endswith(":*")], (logical_id, actions)
            if any(a.startswith(DATA_SERVICES) for a in actions):
                assert "*" not in _as_list(statement["Resource"]), (logical_id, statement)


def test_each_function_holds_only_its_own_table_actions(dev: Synthesized) -> None:
    def table_actions(prefix: str) -> set[str]:
        return {
            action
            for statement in _role_policy_statements(dev, prefix)
            for action in _as_list(statement["Action"])
            if action.startswith("dynamodb:")
        }

    read_write = {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
    for prefix in ("Resolver", "Postback", "Scheduler", "Reconcile"):
        assert table_actions(prefix) == read_write
    # The stream function exits baskets past their limits, and reads the stream (granted by the mapping).
    assert table_actions("Stream") == read_write | {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    for prefix in ("Resolver", "Stream", "Postback", "Scheduler", "Reconcile", "Instruments"):
        assert not [a for a in table_actions(prefix) if "Scan" in a or "Table" in a]
    # The instrument refresh writes instrument partitions only, and reads nothing (no secret either)
    assert table_actions("Instruments") == {"dynamodb:BatchWriteItem", "dynamodb:PutItem"}
    (writes,) = [s for s in _role_policy_statements(dev, "Instruments") if "dynamodb:PutItem" in s["Action"]]
    assert writes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["INSTRUMENT#*"]}}
    assert not [s for s in _role_policy_statements(dev, "Instruments") if "ssm:" in json.dumps(s["Action"])]


def test_the_stream_function_may_call_only_the_publish_mutations(dev: Synthesized) -> None:
    appsync = [s for s in _role_policy_statements(dev, "Stream") if s["Action"] == "appsync:GraphQL"]
    assert len(appsync) == 1
    resources = json.dumps(appsync[0]["Resource"])
    for mutation in schema_fields().publish_mutations:
        assert f"/types/Mutation/fields/{mutation}" in resources
    assert resources.count("/types/") == len(schema_fields().publish_mutations)
    others = [s for s in _role_policy_statements(dev, "Stream") if "appsync:" in json.dumps(s["Action"])]
    assert others == appsync


def test_secrets_are_scoped_to_the_stage_path_and_the_key_only_through_ssm(stages: dict[str, Synthesized]) -> None:
    for stage, synth in stages.items():
        ssm = [s for _, s in _statements(synth) if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
        assert ssm
        for statement in ssm:
            for resource in _as_list(statement["Resource"]):
                text = json.dumps(resource)
                assert f":parameter/basketgraph/{stage}/" in text, text
        writers = [s for s in ssm if "ssm:PutParameter" in _as_list(s["Action"])]
        assert len(writers) == 1  # only the resolver stores broker tokens
        kms = [s for _, s in _statements(synth) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
        assert kms
        for statement in kms:
            assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "ssm.ap-south-1.amazonaws.com"
            assert f"/basketgraph/{stage}/" in json.dumps(statement["Condition"]["StringLike"])
        synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_functions_are_python_312_on_arm64_with_powertools_settings(dev: Synthesized) -> None:
    functions = dev.resources("AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {
        "resolvers.handler.handler",
        "subscriptions.handler.handler",
        "resolvers.postback.handler",
        "resolvers.schedules.handler",
        "resolvers.reconcile.handler",
        "resolvers.instruments.handler",
    }
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"].startswith("basketgraph-")
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Basketgraph"
        assert env["SECRETS_PREFIX"] == "/basketgraph/dev/brokers"
        assert "TABLE_NAME" in env
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert 128 <= props["MemorySize"] <= 2048
    resolver = next(f for f in functions.values() if f["Properties"]["Handler"] == fn.RESOLVER_HANDLER)
    env = resolver["Properties"]["Environment"]["Variables"]
    assert {"SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "SCHEDULE_TARGET_ARN"} <= set(env)
    stream = next(f for f in functions.values() if f["Properties"]["Handler"] == fn.STREAM_HANDLER)
    assert "APPSYNC_URL" in stream["Properties"]["Environment"]["Variables"]


def test_all_functions_share_one_code_asset_from_the_bundle(dev: Synthesized) -> None:
    keys = {json.dumps(f["Properties"]["Code"]) for f in dev.resources("AWS::Lambda::Function").values()}
    assert len(keys) == 1
    assets = json.loads((dev.template_file.parent / f"{dev.stack.stack_name}.assets.json").read_text())
    staged = [a for a in assets["files"].values() if a["source"]["packaging"] == "zip"]
    assert len(staged) == 1
    staged_dir = dev.template_file.parent / staged[0]["source"]["path"]
    assert (staged_dir / "resolvers" / "handler.py").is_file()
    assert (staged_dir / "schema" / "schema.graphql").is_file()
    assert not (staged_dir / "local").exists()


def test_the_postback_handler_is_public_over_https(dev: Synthesized) -> None:
    dev.template.has_resource_properties(
        "AWS::Lambda::Url",
        {
            "AuthType": "NONE",
            "TargetFunctionArn": {"Fn::GetAtt": [Match.string_like_regexp("FunctionsPostback"), "Arn"]},
        },
    )
    assert POSTBACK_URL_OUTPUT in dev.raw["Outputs"]


def test_the_outputs_the_readme_uses_are_there(stages: dict[str, Synthesized]) -> None:
    for synth in stages.values():
        assert set(synth.raw["Outputs"]) >= {
            GRAPHQL_URL_OUTPUT,
            USER_POOL_ID_OUTPUT,
            USER_POOL_CLIENT_ID_OUTPUT,
            POSTBACK_URL_OUTPUT,
            TABLE_NAME_OUTPUT,
            ALARM_TOPIC_OUTPUT,
            STREAM_DLQ_OUTPUT,
            SECRETS_PREFIX_OUTPUT,
        }
        url = synth.raw["Outputs"][GRAPHQL_URL_OUTPUT]["Value"]["Fn::GetAtt"]
        assert synth.raw["Resources"][url[0]]["Type"] == "AWS::AppSync::GraphQLApi"
        assert url[1] == "GraphQLUrl"


def test_square_off_runs_at_1515_ist_on_weekdays_and_reconcile_in_market_hours(dev: Synthesized) -> None:
    schedules = {
        json.loads(s["Properties"]["Target"]["Input"]).get("action", "reconcile every user"): s["Properties"]
        for s in dev.resources("AWS::Scheduler::Schedule").values()
    }
    assert set(schedules) == {"squareoff", "reconcile every user", "refreshInstruments"}
    square_off = schedules["squareoff"]
    assert square_off["ScheduleExpression"] == SQUARE_OFF_CRON == "cron(15 15 ? * MON-FRI *)"
    assert square_off["ScheduleExpressionTimezone"] == TIMEZONE == "Asia/Kolkata"
    assert square_off["Target"]["Arn"]["Fn::GetAtt"][0].startswith("FunctionsScheduler")
    reconcile = schedules["reconcile every user"]
    assert reconcile["ScheduleExpression"] == RECONCILE_CRON
    assert reconcile["ScheduleExpressionTimezone"] == TIMEZONE
    assert reconcile["Target"]["Arn"]["Fn::GetAtt"][0].startswith("FunctionsReconcile")
    instruments = schedules["refreshInstruments"]
    assert instruments["ScheduleExpression"] == INSTRUMENTS_CRON == "cron(30 8 ? * MON-FRI *)"  # before 09:00
    assert instruments["ScheduleExpressionTimezone"] == "Asia/Kolkata"
    assert instruments["Target"]["Arn"]["Fn::GetAtt"][0].startswith("FunctionsInstruments")
    (group,) = dev.resources("AWS::Scheduler::ScheduleGroup").values()
    assert all(s["GroupName"] == group["Properties"]["Name"] for s in schedules.values())


def test_feed_runs_the_kite_ticker_consumer_on_a_small_arm64_fargate_task(dev: Synthesized) -> None:
    (task,) = dev.resources("AWS::ECS::TaskDefinition").values()
    props = task["Properties"]
    assert props["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert props["Cpu"] == "256"
    assert props["Memory"] == "512"
    (container,) = props["ContainerDefinitions"]
    assert container["Command"] == ["python", "-m", "brokers.kite.feed"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert {"TABLE_NAME", "KITE_API_KEY", "FEED_SECRET_PATH"} <= set(env)
    assert env["FEED_SECRET_PATH"].startswith("/basketgraph/dev/")
    # The feed's VPC has no NAT gateway (public subnets); the only one is the order egress's (test_egress.py)
    nats = dev.resources("AWS::EC2::NatGateway").values()
    assert [n["Properties"]["SubnetId"]["Ref"].startswith("EgressVpc") for n in nats] == [True]
    # Nothing to follow in this synth (no -c feedInstruments), so no task runs
    assert env["FEED_INSTRUMENTS"] == ""
    dev.template.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 0, "LaunchType": "FARGATE"})


def test_reconciliation_may_list_the_pools_users_and_nothing_else_in_cognito(dev: Synthesized) -> None:
    cognito = [
        (logical_id, s)
        for logical_id, s in _statements(dev)
        if any(a.startswith("cognito-idp:") for a in _as_list(s["Action"]))
    ]
    assert len(cognito) == 1
    logical_id, statement = cognito[0]
    assert logical_id.startswith("FunctionsReconcileRole")
    assert statement["Action"] == "cognito-idp:ListUsers"
    assert statement["Resource"]["Fn::GetAtt"][1] == "Arn"


def test_alarms_cover_errors_throttles_dlq_iterator_age_and_appsync_5xx(dev: Synthesized) -> None:
    alarms = [a["Properties"] for a in dev.resources("AWS::CloudWatch::Alarm").values()]
    metrics = {(a.get("Namespace"), a.get("MetricName")) for a in alarms}
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/AppSync", "5XXError"),
    } <= metrics
    per_function = [a for a in alarms if a.get("MetricName") in ("Errors", "Throttles")]
    assert len(per_function) == 2 * len(fn.SPECS)
    assert all(a["AlarmActions"] for a in alarms)
    dev.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_cognito_pool_signs_in_by_email_with_strong_passwords_and_optional_totp(dev: Synthesized) -> None:
    dev.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UsernameAttributes": ["email"],
            "MfaConfiguration": "OPTIONAL",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {"MinimumLength": 12, "RequireSymbols": True, "RequireNumbers": True, "RequireUppercase": True}
                )
            },
        },
    )
    dev.template.has_resource_properties("AWS::Cognito::UserPoolClient", {"GenerateSecret": False})
    groups = {g["Properties"]["GroupName"] for g in dev.resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"traders", "admins"}


def test_the_feed_runs_one_task_when_told_what_to_follow(bundle_dir: Any) -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.feed import FeedConstruct
    from infra.secrets import SecretsConstruct
    from infra.tables import TablesConstruct

    stack = cdk.Stack(cdk.App(), "FeedOnly", env=cdk.Environment(region="ap-south-1"))
    stage = STAGES["dev"]
    FeedConstruct(
        stack,
        "Feed",
        stage=stage,
        image_dir=bundle_dir,
        table=TablesConstruct(stack, "Tables", stage=stage).table,
        secrets=SecretsConstruct(stack, "Secrets", stage=stage),
        kite_api_key="kite-app-key",
        instruments="NSE:INFY,NFO:NIFTY26DEC26000CE",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 1})
    (task,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    env = {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    assert env["FEED_INSTRUMENTS"] == "NSE:INFY,NFO:NIFTY26DEC26000CE"
    assert env["KITE_API_KEY"] == "kite-app-key"


def test_every_function_carries_the_shipped_holidays_so_republic_day_is_no_trading_day(
    stages: dict[str, Synthesized],
) -> None:
    from datetime import date

    from composition.runtime import Composition
    from composition.settings import Settings

    for synthesized in stages.values():
        # Given each stage's functions as synthesized
        functions = synthesized.resources("AWS::Lambda::Function")
        synthesized.template.all_resources_properties(
            "AWS::Lambda::Function",
            {
                "Environment": {
                    "Variables": Match.object_like(
                        {"MARKET_HOURS": "nse", "MARKET_CALENDAR": Match.string_like_regexp("NSE:[^;]*2026-01-26")}
                    )
                }
            },
        )
        for function in functions.values():
            env = function["Properties"]["Environment"]["Variables"]
            # When a Lambda composes its calendar from that configuration
            calendar = Composition(
                Settings(market_hours=env["MARKET_HOURS"], market_calendar=env["MARKET_CALENDAR"])
            ).calendar
            # Then the shipped holidays hold for every segment, and MCX keeps its Holi evening session
            assert not calendar.is_trading_day(date(2026, 1, 26), "NSE")
            assert not calendar.is_trading_day(date(2026, 1, 26), "NFO")
            assert not calendar.is_trading_day(date(2026, 1, 26), "MCX")
            assert calendar.is_trading_day(date(2026, 1, 27), "NSE")
            assert calendar.session("MCX", date(2026, 3, 3))[0].hour == 17

"""Alarms (Lambda errors and throttles, stream DLQ depth, stream iterator age, AppSync 5xx) to an SNS
topic, and one dashboard of the same metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_appsync as appsync
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

    from infra.stages import Stage

PERIOD = Duration.minutes(5)
ITERATOR_AGE_LIMIT_MS = 60_000


class ObservabilityConstruct(Construct):
    """One alarm per signal, all to the `topic`; the dashboard shows the same metrics."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: dict[str, lambda_.Function],
        stream_function: lambda_.Function,
        dead_letters: sqs.IQueue,
        api: appsync.GraphqlApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=f"{stage.prefix}-alarms",
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        notify = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> cloudwatch.Alarm:
            created = cloudwatch.Alarm(
                self,
                name,
                alarm_name=f"{stage.prefix}-{name}",
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(notify)
            self.alarms.append(created)
            return created

        for key, function in functions.items():
            alarm(
                f"{key}-errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                1,
                f"The {key} Lambda raised errors",
            )
            alarm(
                f"{key}-throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                1,
                f"The {key} Lambda was throttled",
            )
        dlq_depth = dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
        alarm("stream-dlq-depth", dlq_depth, 1, "Stream records were given up on: see the stream DLQ")
        iterator_age = stream_function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum")
        alarm(
            "stream-iterator-age",
            iterator_age,
            ITERATOR_AGE_LIMIT_MS,
            "Live updates lag the table by a minute or more",
        )
        server_errors = cloudwatch.Metric(
            namespace="AWS/AppSync",
            metric_name="5XXError",
            dimensions_map={"GraphQLAPIId": api.api_id},
            period=PERIOD,
            statistic="Sum",
        )
        alarm("appsync-5xx", server_errors, 1, "AppSync answered with server errors")
        latency = cloudwatch.Metric(
            namespace="AWS/AppSync",
            metric_name="Latency",
            dimensions_map={"GraphQLAPIId": api.api_id},
            period=PERIOD,
            statistic="p99",
        )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{stage.prefix}")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="AppSync 5xx", left=[server_errors], width=12),
            cloudwatch.GraphWidget(title="AppSync latency p99 (ms)", left=[latency], width=12),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors", left=[f.metric_errors(period=PERIOD) for f in functions.values()], width=8
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles", left=[f.metric_throttles(period=PERIOD) for f in functions.values()], width=8
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration p99",
                left=[f.metric_duration(period=PERIOD, statistic="p99") for f in functions.values()],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Stream iterator age (ms)", left=[iterator_age], width=12),
            cloudwatch.GraphWidget(title="Stream DLQ depth", left=[dlq_depth], width=12),
        )
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24))

"""The exported schema as AppSync loads it: auth directives where subscriptions need them."""

from __future__ import annotations

from infra.schema_fields import directives_of, load, schema_fields, types_reachable_from

BOTH = {"aws_iam", "aws_cognito_user_pools"}


def test_every_type_reachable_from_a_subscription_carries_iam_and_user_pool_auth() -> None:
    # Given the schema AppSync gets (its own scalars and directives predeclared, as AppSync does)
    schema = load()
    subscription = schema.subscription_type
    assert subscription is not None
    # When we walk every object type a subscriber can receive
    reachable = types_reachable_from(schema, subscription)
    assert {"OrderEvent", "FillEvent", "PnlEvent", "Order", "Fill"} <= reachable
    # Then each is readable by the IAM publisher (the publish mutation's result) and by Cognito subscribers
    missing = {name: directives_of(schema.get_type(name).ast_node) for name in reachable}  # type: ignore[union-attr]
    assert {name: found for name, found in missing.items() if not found >= BOTH} == {}


def test_publish_mutations_return_the_types_their_subscriptions_deliver() -> None:
    schema = load()
    mutation, subscription = schema.mutation_type, schema.subscription_type
    assert mutation is not None
    assert subscription is not None
    for field in subscription.fields.values():
        (directive,) = [d for d in field.ast_node.directives if d.name.value == "aws_subscribe"]  # type: ignore[union-attr]
        (argument,) = directive.arguments
        for name in (value.value for value in argument.value.values):  # type: ignore[attr-defined]
            assert name in schema_fields().publish_mutations
            assert str(mutation.fields[name].type) == str(field.type)
            # AppSync filters subscriptions on arguments the mutation's result carries
            result_fields = schema.get_type(str(field.type).rstrip("!")).fields  # type: ignore[union-attr]
            assert set(field.args) <= set(result_fields)


def test_subscription_and_query_roots_stay_user_pool_only() -> None:
    schema = load()
    for root in (schema.query_type, schema.subscription_type):
        assert root is not None
        assert directives_of(root.ast_node) == {"aws_cognito_user_pools"}
        assert all("aws_iam" not in directives_of(f.ast_node) for f in root.fields.values())

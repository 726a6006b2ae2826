"""A DynamoDB stream delivered to a Lambda handler the way an event-source mapping does."""

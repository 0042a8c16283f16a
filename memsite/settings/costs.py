"""DynamoDB on-demand prices for the cost projection on the ops page (us-east-1).

Taken from the AWS price list as reduced on 2024-11-01 (on-demand throughput halved); check
https://aws.amazon.com/dynamodb/pricing/on-demand/ and update the date when they change."""

DYNAMODB_PRICES = {
    "taken": "2024-11-01",
    "region": "us-east-1",
    "write_request_units_per_million": 0.625,
    "read_request_units_per_million": 0.125,
    "storage_gb_month": 0.25,
}
# The user's budget for DynamoDB without DAX, from the design notes.
MONTHLY_BUDGET_USD = 3.50

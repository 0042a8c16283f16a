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
# The user's budget for the whole monthly bill, from the design notes: about $3.00 of it
# CloudWatch, the rest DynamoDB (26K writes, 100K reads, 1 GB of storage) with no DAX.
MONTHLY_BUDGET_USD = 3.50
CLOUDWATCH_SHARE_USD = 3.00

# CloudWatch, us-east-1, standard tier (same source and date as above).
CLOUDWATCH_PRICES = {
    "taken": "2024-11-01",
    "logs_ingested_gb": 0.50,
    "logs_stored_gb_month": 0.03,
    "custom_metric_month": 0.30,  # each metric name and dimension set, for the first 10,000
}
# Bytes of log a request, a storage call and a consolidation run write: an ordinary JSON log line
# per request, and with METRICS_EMF one EMF line each (measured on the lines memsite writes).
LOG_BYTES = {"request": 300, "request_emf": 330, "storage_call_emf": 400, "run_emf": 260}
# Stored bytes after 90 days per agent of the simulated team's workload (decision items and their
# index copies, from `make bench`: figures.team.projected_storage_gb_3_agents / 3).
STORAGE_GB_PER_AGENT_90_DAYS = 0.077

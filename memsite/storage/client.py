"""The low-level boto3 DynamoDB client: explicit timeouts, standard-mode retries."""

import boto3
from botocore.config import Config

from memsite.storage.config import StorageConfig


def build_client(config: StorageConfig):  # -> botocore DynamoDB client (its type is generated at run time)
    botocore_config = Config(
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        # total_max_attempts counts the first try too (botocore's max_attempts counts retries only).
        retries={"mode": "standard", "total_max_attempts": config.max_attempts},
        # One client serves every thread of a process, and a batch request fans out eight calls
        # at once: room for several such requests together without reopening connections.
        max_pool_connections=64,
        tcp_keepalive=True,
        # DYNAMODB_BACKEND=aws means AWS itself: botocore would otherwise still take an endpoint
        # from AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) left in the environment.
        ignore_configured_endpoint_urls=config.backend == "aws",
    )
    credentials = {}
    if config.uses_local_credentials:
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return boto3.session.Session().client(
        "dynamodb",
        region_name=config.region,
        endpoint_url=config.endpoint_url,
        config=botocore_config,
        **credentials,
    )

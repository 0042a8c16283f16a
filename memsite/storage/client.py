"""The low-level boto3 DynamoDB client: explicit timeouts, standard-mode retries."""

import boto3
from botocore.config import Config

from memsite.storage.config import StorageConfig


def build_client(config: StorageConfig):  # -> botocore DynamoDB client (its type is generated at run time)
    botocore_config = Config(
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        retries={"mode": "standard", "max_attempts": config.max_attempts},
        # One client serves every thread of a process, and a batch request fans out eight calls
        # at once: room for several such requests together without reopening connections.
        max_pool_connections=64,
        tcp_keepalive=True,
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

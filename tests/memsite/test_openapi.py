from io import StringIO

import yaml
from django.core.management import call_command


def test_the_openapi_schema_is_valid_and_generates_without_warnings():
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.1")
    operations = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(operations) == len(set(operations))
    for path in ("/api/v1/decisions/", "/api/v1/agents/{agent_id}/config/", "/api/v1/signals/inbox/"):
        assert path in schema["paths"]

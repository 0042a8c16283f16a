from io import StringIO

import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


def test_the_openapi_schema_is_valid_and_generates_without_warnings():
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.1")
    operations = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(operations) == len(set(operations))
    for path in ("/api/v1/decisions/", "/api/v1/agents/{agent_id}/config/", "/api/v1/signals/inbox/"):
        assert path in schema["paths"]


def test_every_operation_declares_its_errors_with_the_error_body():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("401", "403", "429", "503"):
                assert status in responses, f"{method.upper()} {path} does not declare {status}"
            if "{" in path:
                assert responses["404"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"
                }
            for status in ("429", "503"):
                assert responses[status]["headers"]["Retry-After"]["required"] is True

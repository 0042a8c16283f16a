"""JSON bodies, with one more refusal than DRF's own parser: nesting so deep that Python's
parser runs out of stack is a 400, not a 500. And body_or_none, for views that must tell a
missing body from an empty object."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


def body_or_none(request: Request) -> Any:
    """The parsed body, or None when the request has none. DRF reads a missing body as {}, which
    for an endpoint whose body is a whole document (a state PUT) would store an empty one."""
    return request.data if request.stream is not None else None

"""One wire format for every time the API returns.

Pydantic writes "…:42Z" when a moment falls on a whole second and "…:42.017000Z" otherwise, so
times that sort correctly as moments would not sort as text. Clients (and the pages) sort and
compare them as text, so every timestamp leaves as UTC with exactly three decimals, the same
format the sort keys use.
"""

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

from memsite.storage.codec import format_timestamp

Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-11-27T09:30:00.123Z"}),
]

"""Opaque, tamper-evident page cursors.

A cursor wraps DynamoDB's LastEvaluatedKey with a fingerprint of the query it belongs to,
signed with the secret key (django.core.signing): a client cannot forge one, alter one, or
reuse one on another query. It is signed, not encrypted: it holds only keys of items the
caller may read anyway. Anything wrong with it is InvalidCursor.
"""

import hashlib
import json
from typing import Any

from django.core import signing

from memsite.storage.errors import InvalidCursor

_SALT = "memsite.storage.cursor"


def query_fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(state: dict[str, Any], *, fingerprint: str, secret: str) -> str:
    """`state` is a LastEvaluatedKey, or any JSON object that says where the next page starts."""
    return signing.dumps({"k": state, "q": fingerprint}, key=secret, salt=_SALT, compress=True)


def decode_cursor(cursor: str, *, fingerprint: str, secret: str) -> dict[str, Any]:
    try:
        payload = signing.loads(cursor, key=secret, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("cursor is not valid: it was altered, truncated or made by another server") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), dict):
        raise InvalidCursor("cursor is not valid")
    if payload.get("q") != fingerprint:
        raise InvalidCursor("cursor belongs to a different query: restart from the first page")
    return payload["k"]

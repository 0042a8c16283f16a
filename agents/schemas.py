"""Agent records."""

import re
from datetime import datetime

from pydantic import BaseModel

AGENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
AGENT_ID_RULE = "1-64 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit"


class AgentProfile(BaseModel):
    agent_id: str
    name: str
    created_at: datetime


class IssuedToken(BaseModel):
    agent_id: str
    token: str
    prefix: str

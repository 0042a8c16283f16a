"""Agents: registry, heartbeats, state, configuration and its versions, short-term memory, rate limits, API tokens."""

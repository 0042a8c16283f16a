"""A simulated BTC trading team: a seeded synthetic market with planted effects of known
probability, and three agents (Market Hunter, Risk Manager, Trade Executor) that use memsite
only through memclient over HTTP, as real agents would. No Django import."""

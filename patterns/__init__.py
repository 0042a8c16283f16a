"""Patterns: pattern definitions, the learner, consolidation tasks, strategies, archetypes, pattern pages."""

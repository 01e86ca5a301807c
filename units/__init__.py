"""The unit catalogue: units, learning outcomes, criteria and contexts, loaded from spec files."""

"""Judgements on a portfolio and its quality assurance, including external verifiers' access."""

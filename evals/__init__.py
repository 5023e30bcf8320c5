"""Evaluation harness over real news (../shared/data)."""

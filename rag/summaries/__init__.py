"""Summaries: a brief of one article, a digest of several, a timeline of a story, each sentence verified and cited."""

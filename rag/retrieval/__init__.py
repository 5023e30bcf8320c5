"""Finding the evidence: embeddings, reading the query, hybrid search with rank fusion and rerank, the check for names
no article mentions, and which articles an answer cites."""

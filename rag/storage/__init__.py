"""Where things are kept: the article registry and its database adapter (SQLite or PostgreSQL), the vector store,
the keyword index, and chat conversations."""

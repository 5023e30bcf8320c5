"""The HTTP API (FastAPI): app factory, lifespan-built services, one router per resource."""

"""Request dependencies: the services built once by the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ingest.pipeline import Ingestor
from rag.pipeline import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_ingestor(request: Request) -> Ingestor:
    ingestor: Ingestor = request.app.state.ingestor
    return ingestor


ServicesDep = Annotated[Services, Depends(get_services)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]

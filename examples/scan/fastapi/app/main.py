"""A small shop API: the FastAPI example `gatehouse scan` is tested against."""

from fastapi import FastAPI

from . import health
from .routers import items, users

app = FastAPI(title="Shop", version="1.2.0")

app.include_router(items.router, prefix="/api/v1")
app.include_router(users.router, prefix="/api/v1", tags=["users"])
app.include_router(health.router)

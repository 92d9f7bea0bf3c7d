"""Server-rendered pages (being written)."""

from fastapi import APIRouter

router = APIRouter()

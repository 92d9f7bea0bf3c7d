"""Atom and RSS 2.0 feeds (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/feeds")

"""Operator inbox (issue 9): conversations, hand-written replies, modem and webhook health,
served as server-rendered pages under ``/ui`` by the API's FastAPI app."""

from smsgw.ui.routes import UI_PREFIX, create_router

__all__ = ["UI_PREFIX", "create_router"]

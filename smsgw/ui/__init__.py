"""Operator inbox: conversations, hand-written replies, modem and webhook health,
served as server-rendered pages under ``/ui`` (`smsgw.webapp` mounts them beside the API)."""

from smsgw.ui.routes import UI_PREFIX, create_router

__all__ = ["UI_PREFIX", "create_router"]

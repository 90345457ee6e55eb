"""The base of every config section model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictSection"]


class StrictSection(BaseModel):
    """Every section rejects unknown keys (a typo must not silently become a default) and
    validates defaults like given values."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

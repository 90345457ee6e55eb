"""Where the read-only shared material lives: `../shared` beside the checkout, never inside it
(its licences keep it out of the repository). Tests that need it skip when it is absent."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"

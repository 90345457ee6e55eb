"""Helpers every command module shares: one-line errors and exit codes.

Exit codes are part of the contract: 0 success, 1 operation failed (message on stderr),
2 usage error (typer/click already uses 2 for bad arguments).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one clear line on stderr and exit; no traceback (that is what --debug is for)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)

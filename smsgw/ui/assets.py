"""The packaged templates and static files (no build step: what is in the wheel is served).

jinja2 is imported with the first rendered page, not with the app: most gateways run for weeks
without anyone opening the inbox, and jinja2 is ~2 MB of the daemon's RSS.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from smsgw.ui import neutral

if TYPE_CHECKING:
    import jinja2

__all__ = ["STATIC_FILES", "render", "static_file"]

#: The only files /ui/static serves: a fixed list, so no path from a URL reaches the disk.
STATIC_FILES: dict[str, str] = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
}


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("smsgw.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # `|shown`: for every string that came from the SIM or the network (see smsgw.ui.neutral).
    environment.filters["shown"] = neutral.shown
    return environment


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


@functools.cache
def static_file(name: str) -> tuple[bytes, str] | None:
    """(content, media type) of a shipped static file, or None."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return None
    return resources.files("smsgw.ui").joinpath("static", name).read_bytes(), media_type

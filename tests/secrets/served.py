"""`python -m tests.secrets.served DIR`: the API and web inbox on a real uvicorn, in its own
process, so a test can measure that process's memory and read its access log.

Writes the port to DIR/port once listening; logs go to stdout/stderr (uvicorn's access log
to stdout).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import uvicorn

from smsgw.config import load_settings
from smsgw.store import open_database, upgrade
from smsgw.webapp import create_app
from tests.api.live import API_KEY, FakeServices, write_config


async def main(directory: Path) -> None:
    settings = load_settings(write_config(directory), env={})
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    services = FakeServices(settings=settings, db=db, api_key=API_KEY)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services, API_KEY),
            host="127.0.0.1",
            port=0,
            log_level="info",
            access_log=True,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    (directory / "port.tmp").write_text(str(port), encoding="ascii")
    (directory / "port.tmp").rename(directory / "port")
    await task
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))

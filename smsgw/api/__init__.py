"""The REST API (FastAPI): `create_app(services)` in `app`, the gateway port in `services`.

Request/response schemas (`schemas`) are separate from the database schema so the public
contract (CONTRACT.md §3) cannot drift when the tables change.
"""

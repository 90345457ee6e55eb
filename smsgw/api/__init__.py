"""The REST API (FastAPI): `create_app(gateway, api_key)` in `app`; what it needs from the
gateway is `smsgw.gateway.operations.GatewayOperations`.

Request/response schemas (`schemas`) are separate from the database schema so the public
contract (CONTRACT.md §3) cannot drift when the tables change.
"""

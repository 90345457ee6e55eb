"""The AT protocol layer: bytes to typed events, and one command at a time over a port.

- `parser`: sans-I/O; bytes in, `Echo` / `Line` / `Final` / `Prompt` / `Urc` events out.
- `responses`, `commands`: pure parsers for information lines and explicit command builders.
- `transport`: the only pyserial user (device paths, ptys, `socket://`); `memory`: an
  in-memory line with fault injection for tests.
- `channel`: one command in flight, per-command timeouts, typed errors, URC handlers.
"""

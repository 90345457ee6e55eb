"""The AT protocol layer: bytes to typed events, and one command at a time over a port.

- `parser`: sans-I/O; bytes in, `Echo` / `Line` / `Final` / `Prompt` / `Urc` events out.
- `commands`: explicit command builders. Pure parsers for information lines, one module per
  subject: `fields` (the shared field grammar), `network`, `storage`, `value_lists` (``=?``
  value lists), `messages`, `identity`.
- `transport`: the only pyserial user (device paths, ptys, `socket://`); `memory`: an
  in-memory line with fault injection for tests.
- `channel`: one command in flight, per-command timeouts, typed errors, URC handlers.
"""

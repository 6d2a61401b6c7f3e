"""Store-and-forward sync: the clinic box's client and, in `central/`, the
NGO's central server.

Installed as `edgebox.sync`. Depends on the core; the core never imports it.
`payload` is the protocol both sides share; `client`, `loop`, `uploads` (raw
documents), `device_report` (what a box says about itself) and `backoff` run
on the clinic box; `central/` is the server; `cli` holds the
`edgebox sync` and `edgebox central` commands.
"""

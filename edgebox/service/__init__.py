"""The long-running service, `edgebox serve`, as a box runs it for months.

`supervisor` starts and stops everything: the `workers` (an intake thread
that takes files in, a worker thread that drives the `pipeline` received ->
extracted -> triaged), the heartbeat it writes into the store (read back by
`heartbeat`), retraining, and the loops the CLI plugs in (sync). `lock` keeps
a second service off the same workspace.
"""

"""The e2e folder: the installed box as an operator meets it, in real
processes (the `edgebox` command, `serve` and `run` as a service, SIGKILL
during intake, the soak run, the benchmarks, what an install puts into
site-packages). Slow by nature; the longest are marked `slow`."""

"""The unit folder: checks of single pieces that belong to no one area (the
configuration, the shared words, the CPU guard, the model manifest, the
layers, the docs, what set-up installs, the command's arguments and printed
output through Click's CliRunner), fast and without a running box.

It needs no fixtures of its own beyond tests/conftest.py (each test's own
EDGEBOX_HOME)."""

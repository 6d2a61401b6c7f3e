"""edgebox: offline document triage for clinics.

The core package. It knows nothing of the terminal UI (`tui`) or the network
(`sync`); only `edgebox.cli` wires them together.
"""

__version__ = "0.1.0"

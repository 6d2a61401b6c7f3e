"""edgebox: offline document triage for clinics.

One installed package, in layers; each imports only the layers below it
(an import-linter contract in pyproject.toml, run by scripts/test):

    cli                              the `edgebox` command; wires the rest
    tui | sync                       the terminal UI; sync client and central/
    service                          supervisor, workers, pipeline, lock
    intake | search | evaluation     files in; FTS5 + vectors; eval
    triage                           engine, combine, grounding, prompt, llm
    learn                            classifiers learned from staff review
    clinical                         red-flag rules, vital signs
    store                            every SQL statement of the box
    config                           settings, each declared once
    vocabulary | terminal            Urgency and tasks; text safe to show
    errors                           EdgeboxError and its subclasses

The folders tui/ and sync/ sit at the top of the checkout and are installed
as `edgebox.tui` and `edgebox.sync` (through the links edgebox/tui and
edgebox/sync).
"""

__version__ = "0.1.0"

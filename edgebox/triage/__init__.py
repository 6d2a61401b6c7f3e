"""Triage: from a document's text to its category, urgency, summary, red
flags and fields.

`engine` runs the parts on one document: the red-flag rules and vital signs
(`edgebox.clinical`), the learned classifiers (`edgebox.learn`) and the local
LLM (`llm`, on a GGUF from the `manifest`, asked with `prompt`); `grounding`
keeps only what the text supports, and `combine` decides from the votes.
"""

"""The triage folder: how a document is rated (the engine with the real model,
the rules, danger and vital signs, the learned classifiers, the two stages,
summaries, evaluation, the model lock, alerts on an emergency).

Tests marked `model` load the real GGUF through the session's `engine`
fixture (tests/conftest.py); run them under `flock /tmp/edgebox-model.lock`."""

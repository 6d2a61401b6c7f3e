"""`edgebox tui` in a real terminal (tmux, 80x24), and its import cost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox import config
from tests.support.paths import REPO
from tests.support.processes import wait_for

HEAVY = {"llama_cpp", "torch", "sentence_transformers", "sklearn"}


def test_importing_the_app_loads_no_model_library() -> None:
    code = "import json, sys, edgebox.tui.app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert loaded & HEAVY == set()
    assert "edgebox.search.index" not in json.loads(out.stdout)


def tmux() -> str:
    path = shutil.which("tmux")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is required in CI for the real-terminal test")
        pytest.skip("tmux is not installed: cannot run the UI in a real terminal")
    return path


class Terminal:
    """A real 80x24 terminal (a tmux session on its own socket)."""

    def __init__(self, tmp_path: Path, command: str) -> None:
        self.binary = tmux()
        self.socket = str(tmp_path / "tmux.sock")
        self.session = "edgebox-tui-test"
        self.exit_file = tmp_path / "exit-status"
        self.env = {**os.environ, "TERM": "xterm-256color"}
        self.run(
            "new-session", "-d", "-s", self.session, "-x", "80", "-y", "24",
            f"{command}; echo $? > {self.exit_file}; sleep 30",
        )  # fmt: skip

    def run(self, *args: str) -> str:
        return subprocess.run(
            [self.binary, "-S", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
            cwd=REPO,
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def exit_status(self, *, timeout_s: float = 60.0) -> str:
        wait_for(
            lambda: self.exit_file.exists() and self.exit_file.read_text().strip(),
            timeout_s=timeout_s,
            what="the command to exit",
        )
        return self.exit_file.read_text().strip()

    def close(self) -> None:
        subprocess.run(
            [self.binary, "-S", self.socket, "kill-server"], capture_output=True
        )


def service_state(settings: config.Config) -> dict[str, str]:
    """What the service last wrote about itself (running, stopped, ...)."""
    from edgebox.store import Store

    with Store(settings.db_path) as store:
        return store.service_state()


def test_edgebox_run_opens_the_ui_with_the_service_behind_it(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    def service() -> dict[str, str]:
        return service_state(settings)

    terminal = Terminal(
        tmp_path, f"{sys.executable} -m edgebox --home {settings.home} run"
    )
    try:
        wait_for(lambda: "!! EMERG" in terminal.screen(), what="the queue")
        wait_for(
            lambda: service().get("state") == "running",
            what="the service started by `edgebox run`",
        )
        terminal.run("send-keys", "-t", terminal.session, "q")
        assert terminal.exit_status(timeout_s=120) == "0"
    finally:
        terminal.close()
    assert service()["state"] == "stopped"  # quitting the UI stopped it cleanly
    assert "watching" in (settings.data_dir / "serve.log").read_text()


def test_closing_the_terminal_of_edgebox_run_stops_its_service(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    """SIGHUP (the SSH link drops, the terminal closes): the service in its own
    session must not live on, holding the workspace."""

    def service() -> dict[str, str]:
        return service_state(settings)

    terminal = Terminal(
        tmp_path, f"{sys.executable} -m edgebox --home {settings.home} run"
    )
    try:
        wait_for(
            lambda: service().get("state") == "running",
            what="the service started by `edgebox run`",
        )
    finally:
        terminal.close()  # kill-server: every pane gets SIGHUP
    wait_for(
        lambda: service().get("state") == "stopped",
        timeout_s=120,
        what="the service to stop with the terminal",
    )


def test_edgebox_tui_paints_the_queue_and_quits_on_q(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    terminal = Terminal(
        tmp_path, f"{sys.executable} -m edgebox --home {settings.home} tui"
    )
    run, session, exit_file = terminal.run, terminal.session, terminal.exit_file
    try:
        wait_for(
            lambda: "!! EMERG" in run("capture-pane", "-p", "-t", session),
            what="the queue to be painted",
        )
        screen = run("capture-pane", "-p", "-t", session)
        assert "3-year-old girl" in screen
        assert "reviewer: amina" in screen
        run("send-keys", "-t", session, "q")
        wait_for(exit_file.exists, what="edgebox tui to exit")
        wait_for(lambda: exit_file.read_text().strip() != "", what="the exit status")
        assert exit_file.read_text().strip() == "0"
    finally:
        terminal.close()


def test_two_staff_at_once_see_each_others_reviews(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    """Two `edgebox tui` processes on one store (two people over SSH): a
    confirmation made in one shows up in the other without a key pressed."""
    import re

    command = f"{sys.executable} -m edgebox --home {settings.home} tui"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = Terminal(tmp_path / "a", command), Terminal(tmp_path / "b", command)

    def reviewed(terminal: Terminal) -> int | None:
        found = re.search(r"reviewed (\d+)", terminal.screen())
        return int(found.group(1)) if found else None

    try:
        for terminal in (first, second):
            wait_for(lambda t=terminal: "!! EMERG" in t.screen(), what="the queue")
        before = reviewed(second)
        assert before is not None
        first.run("send-keys", "-t", first.session, "Enter")
        wait_for(lambda: "document" in first.screen(), what="the document")
        first.run("send-keys", "-t", first.session, "c")
        wait_for(
            lambda: reviewed(second) == before + 1,
            what="the other UI to show the confirmation",
        )
        for terminal in (first, second):
            terminal.run("send-keys", "-t", terminal.session, "q")
        first.run("send-keys", "-t", first.session, "q")  # back from the document
    finally:
        first.close()
        second.close()


def test_edgebox_run_beside_a_running_service_still_opens_the_ui(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    """A box whose systemd service already runs: `edgebox run` cannot start a
    second one, opens the UI all the same, and says what happened on exit."""
    from edgebox.service.lock import InstanceLock
    from edgebox.service.workers import LOCK_NAME

    with InstanceLock(settings.data_dir / LOCK_NAME):
        terminal = Terminal(
            tmp_path, f"{sys.executable} -m edgebox --home {settings.home} run"
        )
        try:
            wait_for(lambda: "!! EMERG" in terminal.screen(), what="the queue")
            log = settings.data_dir / "serve.log"
            wait_for(
                lambda: log.exists() and "another edgebox service" in log.read_text(),
                what="the refused service's log line",
            )
            terminal.run("send-keys", "-t", terminal.session, "q")
            assert terminal.exit_status() == "0"
            assert "had stopped on its own (exit 1)" in terminal.screen()
        finally:
            terminal.close()


def test_a_reviewer_signs_in_and_confirms_in_a_real_terminal(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    """tmux at 80x24: the UI asks for a name and PIN, then a confirm is signed
    with that name (not the login, not EDGEBOX_USER)."""
    from edgebox.store import Store
    from edgebox.store.staff import add_staff

    with Store(settings.db_path) as store:
        add_staff(store, "Fatou", "8080")
    terminal = Terminal(
        tmp_path, f"{sys.executable} -m edgebox --home {settings.home} tui"
    )

    def keys(*sequence: str) -> None:
        terminal.run("send-keys", "-t", terminal.session, *sequence)

    try:
        wait_for(lambda: "Your name" in terminal.screen(), what="the sign-in")
        keys("-l", "Fatou")
        wait_for(lambda: "Fatou" in terminal.screen(), what="the name typed")
        keys("Enter")
        keys("-l", "8080")
        wait_for(lambda: "••••" in terminal.screen(), what="the PIN, hidden")
        keys("Enter")
        wait_for(lambda: "reviewer: Fatou" in terminal.screen(), what="signed in")
        keys("Enter")  # open the first document (the emergency)
        wait_for(lambda: "Red flags" in terminal.screen(), what="the document")
        keys("c")
        doc = seeded["referral-kibera.txt"]

        def confirmed() -> bool:
            with Store(settings.db_path) as store:
                latest = store.latest_revision(doc)
            return latest["author"] == "staff:Fatou"

        wait_for(confirmed, what="the confirm signed by Fatou")
        keys("q")
        assert terminal.exit_status() == "0"
    finally:
        terminal.close()

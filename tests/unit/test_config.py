import dataclasses
import json
import tomllib
from pathlib import Path

import pytest

from edgebox import config
from edgebox.config.declare import Declared, keys_of, setting
from edgebox.errors import ConfigError
from tests.support.cli import invoke
from tests.support.paths import REPO
from tests.support.processes import run_cli


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "edgebox.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_without_a_file(edgebox_home: Path) -> None:
    settings = config.load()
    assert settings.home == edgebox_home.resolve()
    assert settings.source is None
    assert settings.db_path == edgebox_home.resolve() / "data" / "edgebox.db"
    assert settings.model.gpu_layers == "auto"
    assert list(settings.urgency) == ["emergency", "urgent", "routine"]


def test_init_writes_a_file_that_loads_to_the_defaults(edgebox_home: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.stderr
    settings = config.load()
    assert settings.source == edgebox_home.resolve() / "edgebox.toml"
    assert settings.model == config.ModelConfig()
    assert dict(settings.categories) == config.DEFAULT_CATEGORIES
    assert settings.inbox_dir.is_dir() and settings.data_dir.is_dir()


def test_init_refuses_to_overwrite(edgebox_home: Path) -> None:
    write(edgebox_home, "[model]\nthreads = 1\n")
    result = run_cli("init")
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert config.load().model.threads == 1


def test_init_into_a_named_directory(tmp_path: Path) -> None:
    target = tmp_path / "clinic"
    assert invoke("init", str(target)).exit_code == 0
    assert config.load(target).source == target.resolve() / "edgebox.toml"


def test_env_variables_override_keys(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(edgebox_home, '[model]\nthreads = 1\ngpu_layers = "auto"\n')
    monkeypatch.setenv("EDGEBOX_MODEL_THREADS", "3")
    monkeypatch.setenv("EDGEBOX_MODEL_GPU_LAYERS", "0")
    monkeypatch.setenv("EDGEBOX_TRIAGE_LANGUAGE", "fr")
    settings = config.load()
    assert settings.model.threads == 3
    assert settings.model.gpu_layers == 0
    assert settings.triage.language == "fr"


def test_edgebox_home_moves_all_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEBOX_HOME", str(tmp_path / "elsewhere"))
    settings = config.load()
    assert settings.db_path.is_relative_to(tmp_path / "elsewhere")
    assert settings.inbox_dir.is_relative_to(tmp_path / "elsewhere")


def test_invalid_toml_names_the_file_and_line(edgebox_home: Path) -> None:
    path = write(edgebox_home, "[model]\nthreads = = 2\n")
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(path) in str(caught.value)
    assert "line 2" in str(caught.value)


def test_wrong_type_names_the_key_and_the_file(edgebox_home: Path) -> None:
    path = write(edgebox_home, '[model]\nn_ctx = "big"\n')
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(caught.value) == (
        f"'model.n_ctx' must be an integer, got 'big', in {path}"
    )


def test_unknown_key_is_named(edgebox_home: Path) -> None:
    path = write(edgebox_home, "[model]\nnctx = 2048\n")
    with pytest.raises(ConfigError, match=r"unknown key 'model.nctx'") as caught:
        config.load()
    assert str(path) in str(caught.value)


def test_unknown_section_is_named(edgebox_home: Path) -> None:
    write(edgebox_home, "[modle]\nfile = 'x.gguf'\n")
    with pytest.raises(ConfigError, match=r"unknown key 'modle'"):
        config.load()


def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDGEBOX_MODEL_N_CTX", "lots")
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(caught.value) == (
        "environment variable EDGEBOX_MODEL_N_CTX must be an integer, got 'lots'"
    )


def test_boolean_is_not_an_integer(edgebox_home: Path) -> None:
    write(edgebox_home, "[model]\nthreads = true\n")
    with pytest.raises(ConfigError, match="'model.threads' must be an integer"):
        config.load()


def test_urgency_levels_are_fixed(edgebox_home: Path) -> None:
    write(edgebox_home, '[taxonomy.urgency]\nemergency = "now"\nsoon = "later"\n')
    with pytest.raises(ConfigError, match="taxonomy.urgency"):
        config.load()


def test_custom_categories_replace_the_defaults(edgebox_home: Path) -> None:
    write(edgebox_home, '[taxonomy.categories]\nreferral = "a referral"\nother = "x"\n')
    assert dict(config.load().categories) == {"referral": "a referral", "other": "x"}


def test_category_needs_a_description(edgebox_home: Path) -> None:
    write(edgebox_home, '[taxonomy.categories]\nreferral = ""\n')
    with pytest.raises(ConfigError, match="taxonomy.categories.referral"):
        config.load()


def test_cli_reports_a_bad_config_in_one_line(edgebox_home: Path) -> None:
    path = write(edgebox_home, '[model]\nthreads = "two"\n')
    result = run_cli("status")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: 'model.threads' must be an integer, got 'two', in {path}"
    ]


def test_sync_settings_and_boolean_overrides(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(edgebox_home, '[sync]\nurl = "https://central.example"\ndevice = "kouri"\n')
    monkeypatch.setenv("EDGEBOX_SYNC_SEND_DOCUMENTS", "yes")
    monkeypatch.setenv("EDGEBOX_SYNC_TOKEN", "secret-from-env")
    settings = config.load()
    assert (settings.sync.url, settings.sync.device) == (
        "https://central.example",
        "kouri",
    )
    assert settings.sync.send_documents is True
    assert settings.sync.token == "secret-from-env"


def test_a_pasted_token_is_trimmed_and_a_garbled_one_turns_sync_off(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEBOX_SYNC_URL", "https://central.example")
    monkeypatch.setenv("EDGEBOX_SYNC_TOKEN", " 4.s3cret-token\n")
    settings = config.load()
    assert settings.sync.token == "4.s3cret-token" and settings.notices == ()
    for garbled in ("4.s3cret token", "4.s3crét"):
        monkeypatch.setenv("EDGEBOX_SYNC_TOKEN", garbled)
        settings = config.load()  # triage keeps running; sync waits for a fix
        assert settings.sync.url == ""
        (notice,) = settings.notices
        assert notice.startswith(
            "the sync token (environment variable EDGEBOX_SYNC_TOKEN) has a space"
        )
        assert notice.endswith("sync is off until it is fixed")
        assert settings.sync_off.startswith("the sync token (environment variable")


@pytest.mark.parametrize(
    ("toml", "message", "key", "default"),
    [
        ("[sync]\nbatch_records = 5001\n", "between 1 and 5000", "batch_records",
         500),
        ("[sync]\nbatch_records = 0\n", "between 1 and 5000", "batch_records", 500),
        ("[index]\nchunk_tokens = 300\n", "between 16 and 256", "chunk_tokens",
         200),
        ("[index]\nchunk_overlap = 250\n", "must be less than", "chunk_overlap",
         32),
    ],
)  # fmt: skip
def test_a_bad_search_or_sync_value_falls_back_with_a_notice(
    edgebox_home: Path, toml: str, message: str, key: str, default: int
) -> None:
    path = write(edgebox_home, toml)
    settings = config.load()
    (notice,) = settings.notices
    assert message in notice and str(path) in notice
    section = settings.sync if toml.startswith("[sync]") else settings.index
    assert getattr(section, key) == default


def test_a_sync_url_without_a_scheme_turns_sync_off(edgebox_home: Path) -> None:
    write(edgebox_home, '[sync]\nurl = "central.example"\n')
    settings = config.load()
    assert settings.sync.url == ""
    assert "'sync.url' must start with https://" in settings.notices[0]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://central.example:8470", False),  # token and results in clear
        ("http://10.0.0.5:8470", False),
        ("http://127.0.0.1:8470", True),  # never leaves the box
        ("http://localhost:8470", True),
        ("http://[::1]:8470", True),
        ("http://[fe80::1", False),  # not a URL: sync off, triage goes on
        ("https://central.example", True),
    ],
)
def test_plain_http_sync_stays_on_this_machine(
    edgebox_home: Path, url: str, kept: bool
) -> None:
    write(edgebox_home, f'[sync]\nurl = "{url}"\n')
    settings = config.load()
    assert settings.sync.url == (url if kept else "")
    assert bool(settings.notices) is not kept
    if not kept:
        assert "travel readable" in settings.notices[0]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[model]\ntimeout_s = -5\n", "'model.timeout_s' must be at least 1, got -5"),
        ("[model]\nn_ctx = 0\n", "'model.n_ctx' must be at least 256, got 0"),
        ("[ingest]\nrescan_s = 0\n", "'ingest.rescan_s' must be at least 0.1, got 0"),
        ("[ingest]\nmax_bytes = 0\n", "'ingest.max_bytes' must be at least 1"),
        ('[triage]\nlanguage = "de"\n', "'triage.language' must be one of en, fr"),
    ],
)
def test_values_that_cannot_work_are_refused_at_load(
    edgebox_home: Path, toml: str, message: str
) -> None:
    path = write(edgebox_home, toml)
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_boolean_key_refuses_other_values(edgebox_home: Path) -> None:
    write(edgebox_home, '[sync]\nsend_documents = "maybe"\n')
    with pytest.raises(
        ConfigError, match="'sync.send_documents' must be true or false"
    ):
        config.load()


def test_init_copies_the_rule_file_for_the_ngo_to_edit(edgebox_home: Path) -> None:
    assert config.load().rules_path is None  # bundled rules until there is a file
    assert invoke("init").exit_code == 0
    settings = config.load()
    assert settings.rules_path == edgebox_home.resolve() / "redflags.toml"
    assert 'version = "' in settings.rules_path.read_text(encoding="utf-8")


def test_learning_settings_load_and_are_checked(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(edgebox_home, "[triage]\nmin_examples = 50\nemergency_recall = 0.9\n")
    monkeypatch.setenv("EDGEBOX_TRIAGE_LLM_VOTES", "always")
    triage = config.load().triage
    assert (triage.min_examples, triage.emergency_recall) == (50, 0.9)
    assert (triage.llm_votes, triage.retrain_after) == ("always", 10)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('llm_votes = "sometimes"', "'triage.llm_votes' must be \"fallback\" or"),
        ("emergency_recall = 1.5", "'triage.emergency_recall' must be between 0"),
        ("review_cut = -0.1", "'triage.review_cut' must be between 0 and 1"),
        ("retrain_after = 0", "'triage.retrain_after' must be at least 1"),
    ],
)
def test_bad_learning_settings_name_the_key_and_the_file(
    edgebox_home: Path, line: str, message: str
) -> None:
    path = write(edgebox_home, f"[triage]\n{line}\n")
    with pytest.raises(ConfigError, match=message) as caught:
        config.load()
    assert str(path) in str(caught.value)


def test_the_review_cut_is_the_same_in_the_code_and_the_template() -> None:
    """The code's defaults (eval, status, a store read without settings) are
    the [triage] settings' defaults, declared once in TriageConfig."""
    import inspect

    from edgebox.learn import classifiers
    from edgebox.store import Store
    from edgebox.triage.combine import decide

    def default(function: object, name: str) -> object:
        return inspect.signature(function).parameters[name].default

    triage = config.TriageConfig()
    written = config.render_default()
    assert default(decide, "review_cut") == triage.review_cut
    assert default(Store.override_stats, "review_cut") == triage.review_cut
    assert f"review_cut = {triage.review_cut}" in written.splitlines()
    retrain = classifiers.retrain_if_due
    assert default(retrain, "min_examples") == triage.min_examples
    assert default(retrain, "min_new") == triage.retrain_after
    assert default(retrain, "emergency_recall") == triage.emergency_recall


def test_the_template_loads_to_the_defaults(edgebox_home: Path) -> None:
    """What `edgebox init` writes reads back, key by key, as the settings the
    code uses when the file is absent: the rendering of each type is TOML."""
    write(edgebox_home, config.render_default(models_dir=Path("/m")))
    settings = config.load()
    assert settings.notices == () and settings.sync_off == ""
    assert settings.paths == config.PathsConfig(models=Path("/m"))
    for name, section in config.SECTIONS.items():
        if name != "paths":
            assert getattr(settings, name) == section(), name
    assert dict(settings.categories) == config.DEFAULT_CATEGORIES
    assert dict(settings.urgency) == config.DEFAULT_URGENCY


def test_the_template_says_what_each_key_does_and_keeps_secrets_out() -> None:
    written = config.render_default(models_dir=Path("/m"))
    lines = written.splitlines()
    at = lines.index("n_ctx = 4096")
    assert lines[at - 2 : at] == [
        "# Context window, in tokens: prompt, document and answer together. At least"
        " 256.",
        "# Default: 4096.",
    ]
    sync = tomllib.loads(written)["sync"]
    assert "token" not in sync and "patient_key" not in sync
    assert '# token = ""' in lines and '# patient_key = ""' in lines
    assert "set the environment variable EDGEBOX_SYNC_TOKEN" in " ".join(lines)


def test_every_declared_range_is_enforced_from_the_file_and_the_environment(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One value past each end of each declared range: refused in a section
    triage needs, replaced by the default with a notice elsewhere."""
    checked = set()
    for item in _declared():
        for bad in _just_outside(item):
            for by_env in (False, True):
                _assert_refused(edgebox_home, monkeypatch, item, bad, by_env)
            checked.add((item.section, item.name, bad))
    assert {("model", "n_ctx", 255), ("sync", "batch_records", 5001)} <= checked


def _declared() -> list[Declared]:
    return [
        item
        for name, section in config.SECTIONS.items()
        for item in keys_of(name, section)
    ]


def _just_outside(item: Declared) -> list[float]:
    """A value one below the least and one above the most, of the key's type."""
    kind = int if item.kind is int else float
    ends = [(item.key.least, -1), (item.key.most, 1)]
    return [kind(end + step) for end, step in ends if end is not None]


def _assert_refused(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    item: Declared,
    value: float,
    by_env: bool,
) -> None:
    monkeypatch.delenv(item.variable, raising=False)
    path = write(home, "" if by_env else f"[{item.section}]\n{item.name} = {value}\n")
    if by_env:
        monkeypatch.setenv(item.variable, str(value))
    said = (
        f"environment variable {item.variable}"
        if by_env
        else (f"'{item.section}.{item.name}'")
    )
    expected = f"{said} must be {item.key.bound()}, got {value}"
    expected += "" if by_env else f", in {path}"
    if item.section in ("index", "sync", "alerts", "ui"):  # never stop triage
        assert config.load().notices == (f"{expected}; using {item.default}",)
    else:
        with pytest.raises(ConfigError) as caught:
            config.load()
        assert str(caught.value) == expected
    monkeypatch.delenv(item.variable, raising=False)


def test_every_key_is_set_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The variables are derived from the declaration: each one reaches its key."""
    for item in _declared():
        text = _other_valid_value(item)
        monkeypatch.setenv(item.variable, text)
        settings = config.load()
        assert settings.notices == (), item.variable
        assert getattr(getattr(settings, item.section), item.name) != item.default
        monkeypatch.delenv(item.variable)


def _other_valid_value(item: Declared) -> str:
    """A value in the key's range or choices, other than its default, as text."""
    if item.key.choices:
        return next(c for c in item.key.choices if c != item.default)
    if item.kind in (int, float):
        if item.key.most is not None:  # the top of the range, less one
            return str(item.kind(item.key.most - 1))
        return str(item.kind((item.key.least or 0) + 1))
    if item.kind is bool:
        return "no" if item.default else "yes"
    if item.name == "bundle_public_key":  # a shape is checked: 32 bytes
        return "ed25519:" + "A" * 43 + "="
    texts = {str: "https://x.example", Path: "/p", int | str: "3"}
    return texts.get(item.kind, "a,b")


def test_the_committed_reference_is_the_generated_one() -> None:
    """docs/configuration.md is regenerated when a key changes:
    `edgebox config reference > docs/configuration.md`."""
    committed = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == config.render_reference()


def test_the_reference_command_prints_the_reference() -> None:
    from click.testing import CliRunner

    from edgebox.cli.commands import cli

    result = CliRunner().invoke(cli, ["config", "reference"])
    assert result.exit_code == 0, result.output
    assert result.stdout == config.render_reference()
    row = next(line for line in result.stdout.splitlines() if "`batch_records`" in line)
    assert row == (
        "| `batch_records` | `500` | an integer, between 1 and 5000 |"
        " `EDGEBOX_SYNC_BATCH_RECORDS` | Most records in one batch. |"
    )


def test_a_key_without_a_doc_cannot_be_declared() -> None:
    with pytest.raises(TypeError, match="needs its doc"):
        setting(3, " ")


def test_a_key_of_a_type_no_converter_reads_is_refused_at_its_first_load() -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd:
        ratio: complex = setting(1j, "A type neither TOML nor a variable gives.")

    with pytest.raises(TypeError, match="complex.*add a converter"):
        keys_of("odd", Odd)


def test_a_retired_key_is_ignored_with_a_notice(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Older versions read review_below = 0.6 on the raw-score scale: on the
    # calibrated one it would let labels right 6 times in 10 skip review.
    path = write(edgebox_home, "[triage]\nreview_below = 0.6\nmin_examples = 40\n")
    monkeypatch.setenv("EDGEBOX_TRIAGE_REVIEW_BELOW", "0.5")
    settings = config.load()
    assert settings.triage.review_cut == 0.8 and settings.triage.min_examples == 40
    in_file, in_environment = settings.notices
    assert in_file.startswith(f"{path}: [triage] review_below = 0.6 is ignored")
    assert in_file.endswith("set [triage] review_cut instead")
    assert in_environment.startswith(
        "environment variable EDGEBOX_TRIAGE_REVIEW_BELOW is ignored"
    )
    assert in_environment.endswith("set EDGEBOX_TRIAGE_REVIEW_CUT instead")
    doctor = run_cli("doctor", "--json")
    warnings = json.loads(doctor.stdout)["warnings"]
    assert sum("review_below" in w or "REVIEW_BELOW" in w for w in warnings) == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EDGEBOX_MODEL_TIMEOUT_S", "-5", "EDGEBOX_MODEL_TIMEOUT_S must be at least"
         " 1, got -5.0"),
        ("EDGEBOX_INGEST_RESCAN_S", "0", "EDGEBOX_INGEST_RESCAN_S must be at least"
         " 0.1, got 0.0"),
        ("EDGEBOX_TRIAGE_REVIEW_CUT", "1.5", "EDGEBOX_TRIAGE_REVIEW_CUT must be"
         " between 0 and 1, got 1.5"),
        ("EDGEBOX_TRIAGE_LANGUAGE", "de", "EDGEBOX_TRIAGE_LANGUAGE must be one of"
         " en, fr (the languages the prompt and rules are written in), got 'de'"),
        ("EDGEBOX_TRIAGE_LLM_VOTES", "sometimes", "EDGEBOX_TRIAGE_LLM_VOTES must be"
         ' "fallback" or "always", got \'sometimes\''),
    ],
)  # fmt: skip
def test_a_bad_environment_value_is_blamed_on_its_variable_not_the_file(
    edgebox_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    """A volunteer told "in edgebox.toml" searches the file and finds nothing
    wrong: the message names the variable, and only the variable."""
    write(edgebox_home, '[model]\ntimeout_s = 60\n[triage]\nlanguage = "en"\n')
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(caught.value) == f"environment variable {message}"


@pytest.mark.parametrize(
    ("variable", "value", "notice"),
    [
        ("EDGEBOX_SYNC_BATCH_RECORDS", "0", "environment variable"
         " EDGEBOX_SYNC_BATCH_RECORDS must be between 1 and 5000, got 0; using 500"),
        ("EDGEBOX_SYNC_TIMEOUT_S", "-1", "environment variable EDGEBOX_SYNC_TIMEOUT_S"
         " must be at least 1, got -1.0; using 30.0"),
        ("EDGEBOX_INDEX_CHUNK_TOKENS", "300", "environment variable"
         " EDGEBOX_INDEX_CHUNK_TOKENS must be between 16 and 256, got 300; using"
         " 200"),
        ("EDGEBOX_INDEX_CHUNK_OVERLAP", "250", "environment variable"
         " EDGEBOX_INDEX_CHUNK_OVERLAP must be less than 'index.chunk_tokens', got"
         " 250 and 200; using 32 and 200"),
        ("EDGEBOX_SYNC_URL", "http://central.example", "environment variable"
         " EDGEBOX_SYNC_URL must start with https://"),
    ],
)  # fmt: skip
def test_a_soft_setting_from_the_environment_names_its_variable_in_the_notice(
    edgebox_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    notice: str,
) -> None:
    path = write(edgebox_home, '[sync]\nurl = "https://central.example"\n')
    monkeypatch.setenv(variable, value)
    (said,) = config.load().notices
    assert said.startswith(notice)
    assert str(path) not in said


def test_a_check_across_two_keys_names_each_where_it_was_set(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(edgebox_home, "[index]\nchunk_tokens = 100\n")
    monkeypatch.setenv("EDGEBOX_INDEX_CHUNK_OVERLAP", "100")
    (notice,) = config.load().notices
    assert notice == (
        "environment variable EDGEBOX_INDEX_CHUNK_OVERLAP must be less than"
        f" 'index.chunk_tokens', got 100 and 100, in {path}; using 32 and 200"
    )


def test_a_bad_value_in_the_file_still_names_the_key_and_the_file(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment variable for another key changes nothing in the message."""
    path = write(edgebox_home, '[sync]\ntoken = "4.s3cret token"\n')
    monkeypatch.setenv("EDGEBOX_SYNC_URL", "https://central.example")
    monkeypatch.setenv("EDGEBOX_MODEL_THREADS", "2")
    settings = config.load()
    (notice,) = settings.notices
    assert notice.startswith("the sync token ('sync.token') has a space")
    assert notice.endswith(f", in {path}; sync is off until it is fixed")
    monkeypatch.setenv("EDGEBOX_MODEL_TIMEOUT_S", "30")
    write(edgebox_home, "[model]\nn_ctx = 100\n")
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(caught.value) == (
        f"'model.n_ctx' must be at least 256, got 100, in {path}"
    )


def test_a_garbled_token_and_a_plain_http_url_are_both_said(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both turn sync off: a volunteer who fixes one learns of the other now,
    not after the next try."""
    path = write(edgebox_home, '[sync]\nurl = "http://central.example"\n')
    monkeypatch.setenv("EDGEBOX_SYNC_TOKEN", "bad token!")
    settings = config.load()
    token, url = settings.notices
    assert token.startswith("the sync token (environment variable EDGEBOX_SYNC_TOKEN)")
    assert url.startswith("'sync.url' must start with https://")
    assert f"in {path}; sync is off" in url and str(path) not in token
    assert settings.sync.url == ""
    assert settings.sync_off == "; ".join(
        notice.removesuffix("; sync is off until it is fixed")
        for notice in settings.notices
    )

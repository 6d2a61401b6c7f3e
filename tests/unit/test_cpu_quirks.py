"""llama.cpp kept off its AMX path, which kills the process on many Xeons
(a segmentation fault in ggml_backend_amx_mul_mat on the first document)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebox.triage.cpu_quirks import advertises_amx, extra_buffers_safe, model_params

# Flags lines as recorded from /proc/cpuinfo (shortened).
SAPPHIRE_RAPIDS_VM = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    "flags\t\t: fpu vme avx2 avx512f avx512_vnni amx_bf16 avx512_fp16"
    " amx_tile amx_int8\n"
)
LAPTOP = "processor\t: 0\nflags\t\t: fpu vme sse4_2 avx avx2 fma f16c bmi2\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 asimddp\n"


def test_amx_is_read_from_the_flags_line_only() -> None:
    assert advertises_amx(SAPPHIRE_RAPIDS_VM)
    assert not advertises_amx(LAPTOP)
    assert not advertises_amx(ARM)
    assert not advertises_amx("model name\t: amx_tile in a name\nflags\t: avx2\n")


def test_extra_buffers_are_kept_where_safe_or_unknown(tmp_path: Path) -> None:
    recorded = tmp_path / "cpuinfo"
    recorded.write_text(SAPPHIRE_RAPIDS_VM)
    assert not extra_buffers_safe(recorded)
    recorded.write_text(LAPTOP)
    assert extra_buffers_safe(recorded)
    assert extra_buffers_safe(tmp_path / "absent")  # not Linux: nothing known


def test_model_params_turn_extra_buffers_off_and_put_the_default_back() -> None:
    native = pytest.importorskip("llama_cpp.llama_cpp")
    default = native.llama_model_default_params
    assert default().use_extra_bufts  # llama.cpp's own default
    with model_params(extra_buffers=False):
        assert native.llama_model_default_params().use_extra_bufts is False
    assert native.llama_model_default_params is default
    with model_params(extra_buffers=True):
        assert native.llama_model_default_params is default


def test_doctor_says_why_weight_repacking_is_off(
    edgebox_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doctor's report and text, on this machine's real state and on the
    recorded AMX one (a recorded /proc/cpuinfo, the point of the test)."""
    import edgebox.cli.doctor as doctor
    import edgebox.triage.cpu_quirks as quirks
    from edgebox.cli.render import doctor_text
    from edgebox.config import load

    here = doctor.report(load())
    assert here["llama_cpp"]["extra_buffers"] is extra_buffers_safe()
    recorded = tmp_path / "cpuinfo"
    recorded.write_text(SAPPHIRE_RAPIDS_VM)
    monkeypatch.setattr(quirks, "CPUINFO", recorded)
    checks = doctor.report(load())
    assert checks["llama_cpp"]["extra_buffers"] is False
    assert "weight repacking off: this CPU advertises AMX" in doctor_text(checks)

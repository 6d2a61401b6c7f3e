"""`doctor` says whether the data folder sits on an encrypted block device,
read from recorded /proc/mounts and /sys/block contents (CI cannot make a
LUKS device)."""

from __future__ import annotations

import json
from pathlib import Path

from edgebox.cli.at_rest import at_rest_report
from tests.support.processes import run_cli

# Recorded on an Ubuntu 24.04 laptop installed with "encrypt the disk" (LVM on
# LUKS2), plus a USB stick and a tmpfs; names shortened.
MOUNTS = """\
/dev/mapper/ubuntu--vg-ubuntu--lv / ext4 rw,relatime 0 0
/dev/nvme0n1p2 /boot ext4 rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev,size=1604k 0 0
/dev/sdb1 /media/clinic\\040stick vfat rw,nosuid,nodev 0 0
/dev/dm-2 /srv/plain-lvm ext4 rw,relatime 0 0
"""
DEVICES = {
    "dm-0": (
        "dm_crypt-0",
        "CRYPT-LUKS2-7d1c3e0f2b8a4c5e9f0a1b2c3d4e5f60-dm_crypt-0",
        [],
    ),
    "dm-1": ("ubuntu--vg-ubuntu--lv", "LVM-Xx9kq2dHf0aB1cD2eF3gH4iJ5kL6mN7o", ["dm-0"]),
    "dm-2": ("data--vg-plain", "LVM-Pp1qQ2rR3sS4tT5uU6vV7wW8xX9yY0zZ", []),
}


def _sys_block(root: Path) -> Path:
    for dm, (name, uuid, slaves) in DEVICES.items():
        (root / dm / "dm").mkdir(parents=True)
        (root / dm / "dm" / "name").write_text(name + "\n", encoding="utf-8")
        (root / dm / "dm" / "uuid").write_text(uuid + "\n", encoding="utf-8")
        (root / dm / "slaves").mkdir()
        for slave in slaves:
            (root / dm / "slaves" / slave).mkdir()
    return root


def _report(tmp_path: Path, data_dir: str) -> dict:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS, encoding="utf-8")
    sys_block = _sys_block(tmp_path / "block")
    return at_rest_report(Path(data_dir), mounts=mounts, sys_block=sys_block)


def test_a_folder_on_lvm_on_luks_is_encrypted(tmp_path: Path) -> None:
    found = _report(tmp_path, "/home/clinic/edgebox/data")
    assert found["mount"] == "/"
    assert found["device"] == "/dev/mapper/ubuntu--vg-ubuntu--lv"
    assert (found["encrypted"], found["how"]) == (True, "dm-crypt (LUKS2) on dm-0")


def test_a_folder_on_a_plain_partition_is_not(tmp_path: Path) -> None:
    found = _report(tmp_path, "/boot/edgebox")
    assert (found["encrypted"], found["how"]) == (
        False,
        "plain block device /dev/nvme0n1p2",
    )


def test_a_mount_point_with_a_space_is_read_as_its_name(tmp_path: Path) -> None:
    found = _report(tmp_path, "/media/clinic stick/data")
    assert (found["mount"], found["encrypted"]) == ("/media/clinic stick", False)


def test_lvm_without_dm_crypt_under_it_is_not_encrypted(tmp_path: Path) -> None:
    found = _report(tmp_path, "/srv/plain-lvm/data")
    assert (found["encrypted"], found["how"]) == (
        False,
        "device-mapper dm-2, no dm-crypt under it",
    )


def test_tmpfs_is_neither(tmp_path: Path) -> None:
    found = _report(tmp_path, "/run/edgebox")
    assert found["encrypted"] is None
    assert "in memory (tmpfs)" in found["how"]


def test_unreadable_mounts_say_so(tmp_path: Path) -> None:
    found = at_rest_report(tmp_path, mounts=tmp_path / "none")
    assert found["encrypted"] is None
    assert f"cannot read {tmp_path / 'none'}" in found["how"]


def test_doctor_reports_it_and_warns_on_a_plain_disk() -> None:
    checks = json.loads(run_cli("doctor", "--json").stdout)
    at_rest = checks["at_rest"]
    assert at_rest["encrypted"] in (True, False, None)
    warned = [w for w in checks["warnings"] if "not on an encrypted block" in w]
    assert len(warned) == (1 if at_rest["encrypted"] is False else 0)

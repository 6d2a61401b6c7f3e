"""Whether the data folder sits on an encrypted block device (for `doctor`).

The store and the archive hold every patient's text, and a box can be stolen.
The deployment's answer is full-disk encryption (LUKS); this reads the kernel's
own account of it: the mount that holds the folder (`/proc/mounts`), and for a
device-mapper device its target's uuid (`/sys/block/dm-*/dm/uuid`, which
cryptsetup sets to `CRYPT-LUKS2-...` or `CRYPT-PLAIN-...`), following the
devices under it (LVM on LUKS). Both paths are arguments so that tests can
give recorded contents: CI cannot make a LUKS device.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PROC_MOUNTS = Path("/proc/mounts")
SYS_BLOCK = Path("/sys/block")
_IN_MEMORY = {"tmpfs", "ramfs"}


def at_rest_report(
    data_dir: Path, *, mounts: Path = PROC_MOUNTS, sys_block: Path = SYS_BLOCK
) -> dict[str, Any]:
    """{path, mount, device, fstype, encrypted (True, False or None when it
    cannot tell), how}."""
    where = data_dir.resolve()
    try:
        table = _mount_table(mounts.read_text(encoding="utf-8"))
    except OSError as exc:
        return {
            "path": str(where),
            "encrypted": None,
            "how": f"cannot read {mounts}: {exc.strerror}",
        }
    point, device, fstype = _mount_of(where, table)
    found = {"path": str(where), "mount": point, "device": device, "fstype": fstype}
    return found | _verdict(device, fstype, sys_block)


def _verdict(device: str, fstype: str, sys_block: Path) -> dict[str, Any]:
    if fstype in _IN_MEMORY:
        return {"encrypted": None, "how": f"in memory ({fstype}): lost at power-off"}
    dm = _dm_name(device, sys_block)
    if dm is None:
        if device.startswith("/dev/"):
            return {"encrypted": False, "how": f"plain block device {device}"}
        return {"encrypted": None, "how": f"cannot tell ({fstype} from {device})"}
    crypt = _crypt_below(sys_block, dm, seen=set())
    if crypt is None:
        return {"encrypted": False, "how": f"device-mapper {dm}, no dm-crypt under it"}
    return {"encrypted": True, "how": crypt}


def _mount_table(text: str) -> list[tuple[str, str, str]]:
    """(mount point, device, fstype) per line; /proc/mounts writes a space in
    a name as \\040."""
    table = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            device, point, fstype = (_unescape(f) for f in fields[:3])
            table.append((point, device, fstype))
    return table


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mount_of(path: Path, table: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The last-mounted entry whose mount point is the deepest above `path`
    (a later mount over the same point hides the earlier one)."""
    best = ("/", "unknown", "unknown")
    for point, device, fstype in table:
        if path.is_relative_to(point) and len(point) >= len(best[0]):
            best = (point, device, fstype)
    return best


def _dm_name(device: str, sys_block: Path) -> str | None:
    """The dm-N behind `/dev/dm-N` or `/dev/mapper/NAME`, else None."""
    name = device.rsplit("/", 1)[-1]
    if device.startswith("/dev/dm-") and (sys_block / name / "dm").is_dir():
        return name
    if device.startswith("/dev/mapper/"):
        for dm in sorted(sys_block.glob("dm-*")):
            if _read(dm / "dm" / "name") == name:
                return dm.name
    return None


def _crypt_below(sys_block: Path, dm: str, *, seen: set[str]) -> str | None:
    """How `dm` or a device under it is encrypted, or None."""
    if dm in seen:
        return None
    seen.add(dm)
    uuid = _read(sys_block / dm / "dm" / "uuid")
    if uuid.startswith("CRYPT-"):
        kind = uuid.split("-")[1]
        return f"dm-crypt ({kind}) on {dm}"
    for slave in sorted((sys_block / dm / "slaves").glob("dm-*")):
        if (how := _crypt_below(sys_block, slave.name, seen=seen)) is not None:
            return how
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


AT_REST_WARNING = (
    "the data folder {path} is not on an encrypted block device ({how}): whoever"
    " takes the disk reads every patient's text in the store and the archive;"
    " install the box on LUKS full-disk encryption (docs/operations.md, At rest)"
)

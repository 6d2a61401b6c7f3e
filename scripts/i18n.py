"""Keep the French catalogue in step with the code.

    python scripts/i18n.py check     # exit 1 naming what is missing or stale
    python scripts/i18n.py update    # add new messages to edgebox.po (empty)
    python scripts/i18n.py compile   # write edgebox.mo from edgebox.po

Messages are the string literals passed to `_()` or `N_()` (edgebox.i18n) in
edgebox/, tui/ and sync/, found with `ast` rather than xgettext so that the
check runs wherever Python does (CI has no gettext tools). The .mo is written
here too, in GNU's format, sorted, so that the committed file can be compared
byte for byte with what its .po compiles to.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = (REPO / "edgebox", REPO / "tui", REPO / "sync")
PO = REPO / "edgebox" / "locale" / "fr" / "LC_MESSAGES" / "edgebox.po"
MO = PO.with_suffix(".mo")
MARKERS = {"_", "N_"}
_LINKS = {("edgebox", "tui"), ("edgebox", "sync")}


def used_messages(roots: tuple[Path, ...] = SOURCES) -> dict[str, str]:
    """Every message the code marks, with the first place that uses it."""
    found: dict[str, str] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            where = path.relative_to(root.parent)
            if where.parts[:2] in _LINKS:
                continue  # edgebox/tui and edgebox/sync: the same files again
            for message, line in _marked(path):
                found.setdefault(message, f"{where}:{line}")
    return found


def _marked(path: Path) -> list[tuple[str, int]]:
    """Messages passed to _() or N_(), and the key labels of Bindings (the
    footer translates those where it shows them)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in MARKERS and node.args:
            found.append((node.args[0], node.lineno))
        elif node.func.id == "Binding":
            said = [k.value for k in node.keywords if k.arg == "description"]
            found += [(arg, node.lineno) for arg in (node.args[2:3] or said)]
    return [
        (arg.value, line)
        for arg, line in found
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value
    ]


def shadowed(roots: tuple[Path, ...] = SOURCES) -> list[str]:
    """Places that assign `_` in a module that imports it from edgebox.i18n
    (`_, x = row`): every later `_()` there calls the assigned value."""
    out = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if not any(
                isinstance(node, ast.ImportFrom)
                and node.module == "edgebox.i18n"
                and any(alias.name == "_" for alias in node.names)
                for node in ast.walk(tree)
            ):
                continue
            out += [
                f"{path.relative_to(root.parent)}:{node.lineno}: assigns _"
                for node in ast.walk(tree)
                if isinstance(node, ast.Name)
                and node.id == "_"
                and isinstance(node.ctx, ast.Store)
            ]
    return out


def read_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header under ""); no plurals."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    field = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            current[field] += _quoted(line, number)
            continue
        field, _, rest = line.partition(" ")
        if field not in ("msgid", "msgstr"):
            raise ValueError(f"{PO.name} line {number}: unknown keyword {field}")
        if field == "msgid" and "msgstr" in current:
            entries[current["msgid"]] = current["msgstr"]
            current = {}
        current[field] = _quoted(rest, number)
    if "msgid" in current:
        entries[current["msgid"]] = current.get("msgstr", "")
    return entries


def _quoted(token: str, number: int) -> str:
    if not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"{PO.name} line {number}: expected a quoted string")
    return ast.literal_eval(token)


def compile_mo(entries: dict[str, str]) -> bytes:
    """GNU .mo bytes of the translated entries, sorted by msgid."""
    kept = sorted((k, v) for k, v in entries.items() if v)
    ids = [k.encode() for k, _ in kept]
    strs = [v.encode() for _, v in kept]
    start = 7 * 4 + 16 * len(kept)
    ids_blob, strs_blob = b"\0".join(ids) + b"\0", b"\0".join(strs) + b"\0"
    offsets, at = [], start
    for blob in ids:
        offsets += [len(blob), at]
        at += len(blob) + 1
    at = start + len(ids_blob)
    for blob in strs:
        offsets += [len(blob), at]
        at += len(blob) + 1
    n = len(kept)
    header = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
    table = struct.pack(f"<{4 * n}I", *offsets)
    return header + table + ids_blob + strs_blob


def problems() -> list[str]:
    """What keeps the catalogue from matching the code, one line each."""
    entries = read_po(PO.read_text(encoding="utf-8"))
    out = [
        f"{where}: {message!r} has no French in {PO.name}"
        for message, where in used_messages().items()
        if not entries.get(message)
    ]
    out += shadowed()
    if not MO.exists() or MO.read_bytes() != compile_mo(entries):
        out.append(f"{MO.name} is stale: run python scripts/i18n.py compile")
    return out


def update() -> int:
    """Append the messages the .po lacks, with an empty msgstr to fill."""
    entries = read_po(PO.read_text(encoding="utf-8"))
    new = [m for m in used_messages() if m not in entries]
    with PO.open("a", encoding="utf-8") as po:
        for message in new:
            po.write(f'\nmsgid {_po_string(message)}\nmsgstr ""\n')
    return len(new)


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "compile":
        MO.write_bytes(compile_mo(read_po(PO.read_text(encoding="utf-8"))))
        return 0
    if command == "update":
        print(f"added {update()} messages to {PO}")
        return 0
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

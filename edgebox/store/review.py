"""Staff changes to a result: a review (one or several at once), the undo of
the last one, and the checks every change a person makes passes (mixed into
Store).

Undo is append-only: it writes a new revision that copies the revision in
effect before the undone change, and never deletes one. The copy keeps the
author of the values it restores, so undoing a confirmation returns the
document to the AI's answer (state triaged, not a staff label), and
`training_examples` and `override_stats` see exactly what a person decided.
Who undid what is in the revision's provenance (`undo`) and in the audit row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgebox.errors import StoreError
from edgebox.store.documents import document_row
from edgebox.store.revisions import REVISION_COLUMNS, RevisionQueries
from edgebox.store.schema import DocState
from edgebox.store.staff import check_may_sign, signature
from edgebox.vocabulary import Urgency


@dataclass(frozen=True)
class UndoPlan:
    """The revision an undo takes back and the one whose values it restores."""

    undone: dict[str, Any]
    restored: dict[str, Any]


class ReviewQueries(RevisionQueries):
    """Mixed into `Store`."""

    def record_review(
        self,
        doc_id: int,
        *,
        reviewer: str,
        changes: Mapping[str, Any],
        note: str | None = None,
        expected_revision: int | None = None,
        signed: str | None = None,
        bulk: bool = False,
    ) -> int:
        """A person confirms or corrects the latest result: a new revision,
        with the reviewer's optional note. `signed` says how the reviewer's
        name was vouched for (`pin`, `EDGEBOX_USER`, `login`), for the audit.
        `bulk`: confirmed with others at once, unread one by one: marked so in
        its provenance, and kept out of training and override rates.

        `expected_revision` is the revision the person was shown: the review is
        refused when another one came since (unchanged fields are copied from
        the latest revision, so a form opened before a colleague's save would
        otherwise record her values under this reviewer's name)."""
        unknown = set(changes) - set(REVISION_COLUMNS)
        if unknown:
            raise StoreError(f"cannot review unknown field(s): {', '.join(unknown)}")
        with self.atomic():
            latest = self.latest_revision(doc_id)
            if latest is None:
                raise StoreError(f"document {doc_id} has no triage result to review")
            check_seen(doc_id, latest, expected_revision)
            check_may_sign(self.db, reviewer)
            self._check_not_in_triage(doc_id)
            reviewed = {key: latest[key] for key in REVISION_COLUMNS}
            reviewed |= dict(changes)
            check_staff_urgency(doc_id, reviewed["urgency"])
            reviewed["needs_review"] = False
            reviewed["sources"] = {"category": "staff", "urgency": "staff"}
            reviewed["error"] = None
            reviewed["note"] = note or None
            reviewed["provisional"] = False
            provenance = {
                k: v for k, v in reviewed["provenance"].items() if k != "bulk"
            }
            reviewed["provenance"] = provenance | ({"bulk": True} if bulk else {})
            author = f"staff:{reviewer}"
            return self.record_triage(
                doc_id, reviewed, author=author, audit=signature(author, signed)
            )

    def _check_not_in_triage(self, doc_id: int) -> None:
        """A failed triage sent back (requeue) is triaged again: a review saved
        meanwhile would be buried under the new result, so it waits for it."""
        state = document_row(self.db, doc_id)["state"]
        latest = self.latest_revision(doc_id) or {}
        if latest.get("provisional") or str(latest.get("author")).startswith("staff:"):
            return  # staff act before the machine; its stages keep their answer
        if state not in (DocState.TRIAGED, DocState.REVIEWED):
            raise StoreError(
                f"document {doc_id} is being triaged again ({state});"
                " nothing was saved: review it once its new result is in",
                title="changed meanwhile",
            )

    def confirm_many(
        self, doc_ids: list[int], *, reviewer: str, signed: str | None = None
    ) -> tuple[list[int], dict[int, str]]:
        """Confirm several results as they are, in one transaction: (confirmed,
        {left out: why}). Never an emergency (a person confirms each one on
        its own), nor a document with no urgency to confirm."""
        confirmed: list[int] = []
        left_out: dict[int, str] = {}
        with self.atomic():
            for doc_id in doc_ids:
                latest = self.latest_revision(doc_id)
                if latest is None or latest["urgency"] not in Urgency.levels():
                    left_out[doc_id] = "no urgency to confirm"
                elif latest["urgency"] == Urgency.EMERGENCY:
                    left_out[doc_id] = "an emergency is confirmed on its own"
                elif str(latest["author"]).startswith("staff:"):
                    left_out[doc_id] = "a person has already decided"
                else:
                    self.record_review(
                        doc_id,
                        reviewer=reviewer,
                        changes={},
                        expected_revision=latest["revision"],
                        signed=signed,
                        bulk=True,
                    )
                    confirmed.append(doc_id)
        return confirmed, left_out

    def undo_plan(self, doc_id: int) -> UndoPlan | None:
        """What an undo would do now; None when the result in effect is the AI's
        (there is no staff change left to take back)."""
        revisions = {rev["revision"]: rev for rev in self.revisions(doc_id)}
        in_effect: list[int] = []
        for number, rev in revisions.items():
            restores = undo_marker(rev).get("restores")
            if restores in in_effect:
                del in_effect[in_effect.index(restores) + 1 :]
            else:
                in_effect.append(number)
        if len(in_effect) < 2 or not _is_staff(revisions[in_effect[-1]]):
            return None
        return UndoPlan(revisions[in_effect[-1]], revisions[in_effect[-2]])

    def undo_last_change(
        self,
        doc_id: int,
        *,
        actor: str,
        expected_revision: int | None = None,
        signed: str | None = None,
    ) -> int:
        """Take back the last staff change: a new revision with the values that
        were in effect before it; return its number. `expected_revision` is the
        latest revision the person saw when asked: refused when another came
        since, so that the undo done is the one the question named."""
        with self.atomic():
            revisions = self.revisions(doc_id)
            check_seen(doc_id, revisions[-1] if revisions else None, expected_revision)
            check_may_sign(self.db, actor)
            plan = self.undo_plan(doc_id)
            if plan is None:
                raise StoreError(f"document {doc_id} has no staff change to undo")
            restored = dict(plan.restored)
            undo = {
                # Its own number: a later review copies the provenance forward,
                # and that copy must not read as another undo.
                "revision": revisions[-1]["revision"] + 1,
                "undid": plan.undone["revision"],
                "restores": restored["revision"],
                "by": f"staff:{actor}",
            }
            restored["provenance"] = dict(restored["provenance"]) | {"undo": undo}
            if not _is_staff(restored):
                # A person had looked at it and took that back: it must show up
                # for review again, not pass as an answer no one need check.
                restored["needs_review"] = True
            return self.record_triage(
                doc_id,
                restored,
                author=restored["author"],
                audit=(
                    f"staff:{actor}",
                    "undo",
                    undo | ({"signed": signed} if signed else {}),
                ),
            )


def check_seen(
    doc_id: int, latest: Mapping[str, Any] | None, expected: int | None
) -> None:
    """Refuse a change made on what is no longer the latest revision (another
    session saved meanwhile): optimistic concurrency, checked in the write's
    own transaction. `expected` None: no check (callers that show nothing)."""
    if expected is None or (latest is not None and latest["revision"] == expected):
        return
    now = "no result" if latest is None else _revision_words(latest)
    raise StoreError(
        f"document {doc_id} changed since you opened it (now {now});"
        " nothing was saved: look at it again first",
        title="changed meanwhile",
    )


def check_staff_urgency(doc_id: int, urgency: str) -> None:
    """A person's answer always has an urgency: "unknown" is only ever the AI
    failing, and confirming it would clear the need for review."""
    if urgency not in Urgency.levels():
        raise StoreError(
            f"document {doc_id}: choose an urgency ({', '.join(Urgency.levels())});"
            f" {urgency!r} cannot be confirmed"
        )


def _revision_words(rev: Mapping[str, Any]) -> str:
    """How the newer revision is named to the person refused: an undo is the
    undo of whoever did it, not the author whose values it restored."""
    undo = undo_marker(rev)
    who = f"an undo by {undo['by']}" if undo.get("by") else f"by {rev['author']}"
    return (
        f"revision {rev['revision']}, {who}: {rev['urgency']}, {rev['category'] or '-'}"
    )


def undo_marker(revision: Mapping[str, Any]) -> dict[str, Any]:
    """{revision, undid, restores, by} when this revision is an undo, else {}."""
    undo = (revision.get("provenance") or {}).get("undo") or {}
    return undo if undo.get("revision") == revision.get("revision") else {}


def _is_staff(revision: Mapping[str, Any]) -> bool:
    return str(revision["author"]).startswith("staff:")

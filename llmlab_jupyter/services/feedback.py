"""Human feedback on experiment results: thumbs, a 1-5 rating, a label and a comment.

One record per (result, user): giving feedback again updates the fields given and
keeps the others. The labels a result may get are the experiment's
``settings["feedback_labels"]`` when one was configured at creation.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..exceptions import InvalidInput
from ..models import Record
from ..prompts import validate_slug
from .access import Caller
from .base import Service

MAX_COMMENT_CHARS = 10_000
MAX_LABEL_CHARS = 100
MAX_LABELS = 50
_UNSET: Any = object()


class Feedback(Record):
    """A person's judgement of one result (variant ``variant_idx`` on dataset row ``row_idx``)."""

    experiment: str
    variant_idx: int
    row_idx: int
    user: str
    thumbs: int | None
    rating: int | None
    label: str | None
    comment: str
    created_at: datetime
    updated_at: datetime


def check_feedback_labels(labels: Any) -> builtins.list[str] | None:
    """Validate a configured label set: unique, non-empty strings of at most 100 chars."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise InvalidInput("feedback_labels must be a list of strings", field="feedback_labels")
    out: builtins.list[str] = []
    for label in labels:
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
            raise InvalidInput(
                f"feedback_labels must be non-empty strings of at most {MAX_LABEL_CHARS} chars",
                field="feedback_labels",
            )
        if label in out:
            raise InvalidInput(f"feedback label {label!r} is repeated", field="feedback_labels")
        out.append(label)
    if not out or len(out) > MAX_LABELS:
        raise InvalidInput(
            f"feedback_labels must hold 1 to {MAX_LABELS} labels", field="feedback_labels"
        )
    return out


def _int_in(value: Any, allowed: Sequence[int], field: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InvalidInput(message, field=field)
    return value


class FeedbackService(Service):
    """Records and lists human feedback on the results of an experiment."""

    def give(
        self,
        caller: Caller,
        project: str,
        experiment: str,
        variant_idx: int,
        row_idx: int,
        *,
        thumbs: int | None = _UNSET,
        rating: int | None = _UNSET,
        label: str | None = _UNSET,
        comment: str | None = _UNSET,
    ) -> Feedback:
        """Store the caller's feedback on one result; fields not given are kept.

        ``thumbs`` is 1 or -1, ``rating`` 1..5, ``label`` one of the experiment's
        ``feedback_labels`` (any short string when none are configured), ``comment`` at
        most 10,000 characters. Passing ``None`` clears a field. Needs write access.
        """
        self.access.require(caller, project, "write")
        name = validate_slug(experiment, "experiment")
        exp = self.store.get_experiment(project, name)
        n_variants = len(exp.variants)
        _int_in(
            variant_idx,
            range(n_variants),
            "variant_idx",
            f"variant_idx must be a variant index 0..{n_variants - 1}",
        )
        if isinstance(row_idx, bool) or not isinstance(row_idx, int) or row_idx < 0:
            raise InvalidInput("row_idx must be a non-negative integer", field="row_idx")
        values: dict[str, Any] = {}
        if thumbs is not _UNSET:
            if thumbs is not None:
                _int_in(thumbs, (-1, 1), "thumbs", "thumbs must be 1 (up) or -1 (down)")
            values["thumbs"] = thumbs
        if rating is not _UNSET:
            if rating is not None:
                _int_in(rating, range(1, 6), "rating", "rating must be an integer from 1 to 5")
            values["rating"] = rating
        if label is not _UNSET:
            if label is not None:
                values["label"] = self._check_label(label, exp.settings.get("feedback_labels"))
            else:
                values["label"] = None
        if comment is not _UNSET:
            if comment is not None and not isinstance(comment, str):
                raise InvalidInput("comment must be a string", field="comment")
            if comment is not None and len(comment) > MAX_COMMENT_CHARS:
                raise InvalidInput(
                    f"comment must be at most {MAX_COMMENT_CHARS} characters", field="comment"
                )
            values["comment"] = comment
        if not values:
            raise InvalidInput("give thumbs, rating, label or comment", field="feedback")
        exp_id, _ = self.store.experiment_id(project, name)
        record = self.store.upsert_feedback(exp_id, variant_idx, row_idx, caller.user, values)
        return Feedback(experiment=name, **record)

    @staticmethod
    def _check_label(label: Any, allowed: Sequence[str] | None) -> str:
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
            raise InvalidInput(
                f"label must be a non-empty string of at most {MAX_LABEL_CHARS} chars",
                field="label",
            )
        if allowed and label not in allowed:
            raise InvalidInput(
                f"label must be one of: {', '.join(allowed)}", field="label", allowed=list(allowed)
            )
        return label

    def list(
        self,
        caller: Caller,
        project: str,
        experiment: str,
        *,
        variant_idx: int | None = None,
        user: str | None = None,
    ) -> builtins.list[Feedback]:
        """Feedback records of an experiment, by row, variant and user."""
        self.access.require(caller, project, "read")
        name = validate_slug(experiment, "experiment")
        exp_id, _ = self.store.experiment_id(project, name)
        return [
            Feedback(experiment=name, **r)
            for r in self.store.list_feedback(exp_id, variant_idx=variant_idx, user=user)
        ]

    def labels(self, caller: Caller, project: str, experiment: str) -> builtins.list[str]:
        """The experiment's configured label set (empty when labels are free)."""
        self.access.require(caller, project, "read")
        exp = self.store.get_experiment(project, validate_slug(experiment, "experiment"))
        return builtins.list(exp.settings.get("feedback_labels") or [])


# -- feedback columns of results and summaries ---------------------------------------------
def no_feedback() -> dict[str, Any]:
    """The feedback columns of a result nobody has judged."""
    return {
        "feedback_thumbs_up": 0,
        "feedback_thumbs_down": 0,
        "feedback_mean_rating": math.nan,
        "feedback_labels": [],
        "feedback_comments": [],
    }


def feedback_by_result(
    records: Sequence[dict[str, Any]],
) -> dict[tuple[int, int], dict[str, Any]]:
    """Feedback columns of each (variant_idx, row_idx), aggregated over the people."""
    grouped: dict[tuple[int, int], builtins.list[dict[str, Any]]] = {}
    for f in records:
        grouped.setdefault((f["variant_idx"], f["row_idx"]), []).append(f)
    out = {}
    for key, items in grouped.items():
        ratings = [f["rating"] for f in items if f["rating"] is not None]
        out[key] = {
            "feedback_thumbs_up": sum(1 for f in items if f["thumbs"] == 1),
            "feedback_thumbs_down": sum(1 for f in items if f["thumbs"] == -1),
            "feedback_mean_rating": sum(ratings) / len(ratings) if ratings else math.nan,
            "feedback_labels": [f["label"] for f in items if f["label"]],
            "feedback_comments": [f"{f['user']}: {f['comment']}" for f in items if f["comment"]],
        }
    return out


def feedback_summary(agg: dict[str, Any] | None) -> dict[str, Any]:
    """The per-variant feedback columns of a summary (from the store's aggregates)."""
    agg = agg or {}
    mean = agg.get("mean_rating")
    return {
        "feedback_thumbs_up": agg.get("thumbs_up", 0),
        "feedback_thumbs_down": agg.get("thumbs_down", 0),
        "feedback_mean_rating": mean if mean is not None else math.nan,
        "feedback_rated": agg.get("rated", 0),
    }

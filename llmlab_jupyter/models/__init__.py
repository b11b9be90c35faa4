"""The domain records: immutable pydantic models that the services return and accept.

``records`` holds projects, prompts, datasets and experiments; ``jobs`` holds batch jobs,
schedules and alerts. Everything is re-exported here: ``from llmlab_jupyter.models import Job``.
They are plain data and import nothing from the layers that use them.
"""

from .jobs import BUILTIN_SLEEP, FINAL_STATES, Alert, Claim, Job, JobLog, JobState, Schedule
from .records import (
    ROLES,
    Column,
    ColumnType,
    CreatePromptVersion,
    Dataset,
    DatasetVersion,
    Experiment,
    ExperimentStatus,
    Label,
    LabelEvent,
    MemberKind,
    Membership,
    Message,
    Project,
    Prompt,
    PromptKind,
    PromptVersion,
    Record,
    Role,
    SaveResult,
    Variant,
)

__all__ = [
    "BUILTIN_SLEEP",
    "FINAL_STATES",
    "ROLES",
    "Alert",
    "Claim",
    "Column",
    "ColumnType",
    "CreatePromptVersion",
    "Dataset",
    "DatasetVersion",
    "Experiment",
    "ExperimentStatus",
    "Job",
    "JobLog",
    "JobState",
    "Label",
    "LabelEvent",
    "MemberKind",
    "Membership",
    "Message",
    "Project",
    "Prompt",
    "PromptKind",
    "PromptVersion",
    "Record",
    "Role",
    "SaveResult",
    "Schedule",
    "Variant",
]

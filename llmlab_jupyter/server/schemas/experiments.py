"""Request, query and response models of the experiment, feedback and usage routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ...models import Experiment
from .common import MAX_INT, Body, PageQuery, Query


class VariantSpec(Body):
    """A prompt version (by ``version`` or ``label``) with an optional model and parameters."""

    prompt: str = Field(description="Prompt name, or a reference such as summarize@2.")
    version: int | None = Field(None, ge=1, le=MAX_INT)
    label: str | None = None
    model: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class CreateExperiment(Body):
    dataset: str = Field(description="Dataset reference: name (latest) or name@N.")
    variants: list[str | VariantSpec] = Field(min_length=1, max_length=50)
    models: list[str] | None = Field(None, max_length=20, description="Crossed with variants.")
    scorers: list[str | dict[str, Any]] = Field(default_factory=list, max_length=20)
    name: str | None = None
    description: str = Field("", max_length=10_000)
    budget_usd: float | None = Field(None, gt=0, le=1e9)
    concurrency: int = Field(16, ge=1, le=1000)
    use_cache: bool = True
    feedback_labels: list[str] | None = None
    start: bool = Field(True, description="Start running in the background right away.")


class StartExperiment(Body):
    budget_usd: float | None = Field(None, gt=0, le=1e9, description="A new budget.")


class ListExperimentsQuery(PageQuery):
    status: str | None = Field(None, max_length=20)


class ResultsQuery(PageQuery):
    variant: int | None = Field(None, ge=0, le=MAX_INT)
    errors_only: bool = False
    search: str | None = Field(None, max_length=200)


class SummaryQuery(Query):
    baseline: int = Field(0, ge=0, le=MAX_INT)
    confidence: float = Field(0.95, ge=0.5, lt=1)


class CompareQuery(Query):
    a: int = Field(ge=0, le=MAX_INT)
    b: int = Field(ge=0, le=MAX_INT)
    scorer: str = Field(max_length=100)
    confidence: float = Field(0.95, ge=0.5, lt=1)
    tie_tolerance: float = Field(0.0, ge=0, le=1e9)


class UsageQuery(Query):
    by: str = Field("model", max_length=200, description="Comma-separated group columns.")
    experiment: str | None = Field(None, max_length=100)
    since: datetime | None = None
    until: datetime | None = None


class GiveFeedback(Body):
    """Fields left out keep their stored value; ``null`` clears one."""

    thumbs: Literal[-1, 1] | None = None
    rating: int | None = Field(None, ge=1, le=5)
    label: str | None = Field(None, max_length=100)
    comment: str | None = Field(None, max_length=10_000)


class Complete(Body):
    prompt: str | list[dict[str, str]] = Field(description="Text, or chat messages.")
    model: str = Field(max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    use_cache: bool = True


class CompletionResponse(BaseModel):
    text: str
    model: str
    cache_hit: bool
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    saved_usd: float
    latency_ms: float
    attempts: int
    finish_reason: str | None = None


class ExperimentState(BaseModel):
    """An experiment and whether this server is running it now."""

    experiment: Experiment
    active: bool


class ListExperimentsResponse(BaseModel):
    items: list[Experiment]
    next_offset: int | None


class ResultsResponse(BaseModel):
    items: list[dict[str, Any]]
    next_offset: int | None
    total: int


class RowsResponse(BaseModel):
    items: list[dict[str, Any]]


class DryRunResponse(BaseModel):
    experiment: str
    calls: int
    cached: int
    already_done: int
    est_cost_usd: float
    variants: list[dict[str, Any]]


class CompareResponse(BaseModel):
    a: str
    b: str
    scorer: str
    n: int
    wins: int
    losses: int
    ties: int
    mean_a: float | None = None
    mean_b: float | None = None
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    test: str | None = None
    significant: bool = False
    confidence: float = 0.95

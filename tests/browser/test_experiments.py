"""The Experiments and Jobs panels in a real JupyterLab.

An experiment is started from the "New experiment" form (fake models, offline), followed to
completion, read in the summary and results tables, and opened in a notebook; a batch job
submitted over REST is followed in the Jobs panel to success, its logs read, its report opened
in a new tab, and a second, long job is cancelled from its view.
"""

from __future__ import annotations

import re
import urllib.request

from playwright.sync_api import expect

XSS = '<img src=x onerror="window.__llmlabXss=1"><script>window.__llmlabXss=2</script>'
PROJECT = "exp-ui"
EXPERIMENT = "capitals-v1-v2"


def _upload_csv(lab, project: str, name: str, csv: str) -> None:
    request = urllib.request.Request(
        f"{lab.url}llmlab/api/projects/{project}/datasets/{name}/versions?format=csv&message=x",
        data=csv.encode(),
        method="POST",
        headers={"Authorization": f"token {lab.token}", "Content-Type": "text/csv"},
    )
    urllib.request.urlopen(request, timeout=30).close()


def _services(lab):
    from llmlab_jupyter.config import LlmLabConfig
    from llmlab_jupyter.services import Services

    return Services.from_config(
        LlmLabConfig(database_url=lab.database_url, data_dir=str(lab.data_dir))
    )


def test_run_an_experiment_from_the_sidebar(lab, lab_page):
    page = lab_page.page
    lab.api("POST", "projects", {"slug": PROJECT, "title": "Experiments UI"})
    for template in ["{{ question }}", "Answer: {{ question }}"]:
        lab.api(
            "POST",
            f"projects/{PROJECT}/prompts/capital/versions",
            {"template": template, "model": "fake/echo", "message": "v"},
        )
    quoted = XSS.replace('"', '""')
    _upload_csv(
        lab, PROJECT, "capitals", f'question,expected\nParis,Paris\nRome,Rome\n"{quoted}",x\n'
    )

    lab_page.command("llmlab:refresh")
    lab_page.select_project(PROJECT)
    lab_page.command("llmlab:open-experiments")
    sidebar = lab_page.sidebar
    expect(sidebar.get_by_role("tab", name="Experiments", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    sidebar.get_by_role("button", name="New experiment", exact=True).click()
    form = page.get_by_role("form", name="New experiment", exact=True)
    expect(form.get_by_role("option", name="capital@2", exact=True)).to_be_attached()
    form.get_by_label("Experiment name", exact=True).fill(EXPERIMENT)
    form.get_by_label("Prompt versions", exact=True).select_option(["capital@1", "capital@2"])
    form.get_by_label("Model 1", exact=True).fill("fake/echo")
    form.get_by_role("button", name="Add model", exact=True).click()
    form.get_by_label("Model 2", exact=True).fill("not a model")
    expect(form.get_by_label("Dataset", exact=True)).to_have_value("capitals")
    form.get_by_label("exact_match", exact=True).check()
    form.get_by_label("similarity", exact=True).check()

    # the server's validation error is shown next to the field it names
    form.get_by_role("button", name="Start experiment", exact=True).click()
    error = form.locator(".jp-llmlab-field-error")
    expect(error).to_contain_text("invalid model name 'not a model'")
    expect(form.get_by_label("Model 2", exact=True)).to_have_attribute("aria-invalid", "true")
    # a slow second model, so the view sees the run in progress
    form.get_by_label("Model 2", exact=True).fill("fake/upper?latency_ms=700")
    form.get_by_role("button", name="Start experiment", exact=True).click()

    view = page.locator(".jp-llmlab-ExperimentWidget:visible")
    expect(view.get_by_role("heading", name=EXPERIMENT, exact=True)).to_be_visible()
    status = view.get_by_label("Experiment status", exact=True)
    expect(status).to_have_text("completed", timeout=30_000)
    expect(view.get_by_role("progressbar", name="Experiment progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(view.get_by_text("12 / 12 items · 100%")).to_be_visible()

    summary = view.get_by_role("table", name=f"Summary of {EXPERIMENT}", exact=True)
    baseline = summary.get_by_role("row").filter(has_text="capital@1 · fake/echo")
    # capital@1 echoes the question: exact match on Paris and Rome, not on the payload
    expect(baseline).to_contain_text("0.667")
    expect(baseline).to_contain_text("baseline")
    expect(summary.get_by_role("row")).to_have_count(5)  # header + 2 prompts × 2 models
    upper = summary.get_by_role("row").filter(has_text="capital@1 · fake/upper")
    expect(upper.locator("td").nth(0)).to_have_text("3")  # results
    expect(upper).to_contain_text(re.compile(r"\d+/\d+/\d+"))  # wins/losses/ties

    results = view.get_by_role("table", name=f"Results of {EXPERIMENT}", exact=True)
    expect(results).to_contain_text(XSS)  # the dataset cell and the echoed output, as text
    expect(view.get_by_text("Results 1–12 of 12")).to_be_visible()
    row = sidebar.get_by_role("button", name=f"Open experiment {EXPERIMENT}", exact=True)
    expect(row).to_contain_text("12/12")
    expect(row).to_contain_text("completed")
    lab_page.screenshot("experiment-summary")

    view.get_by_role("button", name="Open comparison in a notebook", exact=True).click()
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook).to_be_visible()
    cell = notebook.locator(".jp-CodeCell").first
    expect(cell.locator(".cm-content")).to_contain_text(f'lab = Lab(project="{PROJECT}")')
    expect(cell.locator(".cm-content")).to_contain_text(
        f'exp = lab.experiments.get("{EXPERIMENT}")'
    )
    expect(cell.locator(".cm-content")).to_contain_text("exp.compare()")

    assert page.evaluate("() => window.__llmlabXss") is None
    assert page.locator(".jp-llmlab-ExperimentWidget img, #jp-llmlab-sidebar img").count() == 0
    assert page.locator(".jp-llmlab-ExperimentWidget script").count() == 0
    assert lab_page.errors == []


def test_follow_and_cancel_jobs(lab, lab_page):
    page = lab_page.page
    lab.api("POST", "projects", {"slug": "jobs-ui", "title": "Jobs UI"})
    job = lab.api(
        "POST",
        "projects/jobs-ui/jobs",
        {"template": "builtin-sleep", "parameters": {"seconds": 1.5}},
    )
    lab_page.command("llmlab:refresh")
    lab_page.select_project("jobs-ui")
    lab_page.command("llmlab:open-jobs")
    sidebar = lab_page.sidebar
    row = sidebar.get_by_role("button", name=f"Open job {job['id']}", exact=True)
    expect(row).to_contain_text("builtin-sleep")
    expect(row).to_contain_text("succeeded", timeout=30_000)  # the list polls while active

    # a report, as a notebook job would leave one (sleep jobs make none)
    services = _services(lab)
    try:
        key = f"projects/jobs-ui/jobs/{job['id']}/report.html"
        services.artifacts.put_bytes(
            key, b"<html><body><h1>Job report ok</h1><script>1</script></body></html>"
        )
        services.store.set_job_artifacts(job["id"], {"report": key})
    finally:
        services.close()

    row.click()
    view = page.locator(".jp-llmlab-JobWidget:visible")
    expect(view.get_by_label("Job state", exact=True)).to_have_text("succeeded")
    expect(view.get_by_label("Job logs", exact=True)).to_contain_text("sleeping 1.5 s")
    expect(view.get_by_label("Job parameters", exact=True)).to_contain_text('"seconds": 1.5')
    expect(view.get_by_label("Job result", exact=True)).to_contain_text("slept_s")
    expect(view.get_by_role("button", name="Cancel job", exact=True)).to_be_disabled()
    with page.context.expect_page() as opened:
        view.get_by_role("link", name="Open report", exact=True).click()
    report = opened.value
    report.wait_for_load_state()
    expect(report.locator("h1")).to_have_text("Job report ok")
    report.close()

    # a long job: its logs arrive while it runs, then it is cancelled from the view
    long_job = lab.api(
        "POST",
        "projects/jobs-ui/jobs",
        {"template": "builtin-sleep", "parameters": {"seconds": 60}},
    )
    lab_page.command("llmlab:open-job", {"project": "jobs-ui", "id": long_job["id"]})
    view = page.locator(".jp-llmlab-JobWidget:visible")
    expect(
        view.get_by_role("heading", name=f"Job #{long_job['id']} · builtin-sleep")
    ).to_be_visible()
    expect(view.get_by_label("Job logs", exact=True)).to_contain_text(
        "sleeping 60 s", timeout=30_000
    )
    expect(view.get_by_label("Job state", exact=True)).to_have_text("running")
    long_row = sidebar.get_by_role("button", name=f"Open job {long_job['id']}", exact=True)
    expect(long_row).to_contain_text("running")  # the view told the list about it
    lab_page.screenshot("jobs")

    # a view in a background tab does not poll
    polled: list[str] = []
    page.on(
        "request",
        lambda request: (
            polled.append(request.url) if f"/jobs/{long_job['id']}" in request.url else None
        ),
    )
    lab_page.main_tab(f"Job #{job['id']}").click()
    page.wait_for_timeout(300)  # a request already in flight
    before = len(polled)
    page.wait_for_timeout(2500)
    assert len(polled) == before
    lab_page.main_tab(f"Job #{long_job['id']}").click()
    page.wait_for_timeout(1500)
    assert len(polled) > before  # polling again once shown
    view.get_by_role("button", name="Cancel job", exact=True).click()
    expect(view.get_by_label("Job state", exact=True)).to_have_text("cancelled", timeout=30_000)
    expect(long_row).to_contain_text("cancelled", timeout=10_000)
    assert lab_page.errors == []

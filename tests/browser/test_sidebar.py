"""The LLM Lab sidebar in a real JupyterLab: prompts, versions, diff, labels, notebook, datasets.

One JupyterLab serves the whole module (see conftest); tests use their own projects or
prompt names so their order does not matter.
"""

from __future__ import annotations

import re
import time
import urllib.request

from playwright.sync_api import expect

XSS = '<img src=x onerror="window.__llmlabXss=1"><script>window.__llmlabXss=2</script>'


def test_prompt_workflow(lab, lab_page):
    """Create a prompt, save v2, diff v1/v2, move production, insert into a notebook, run it."""
    page = lab_page.page
    for name, template, message in [
        ("classify-intent", "Classify the intent of: {{ text }}", "first cut"),
        (
            "summarize-ticket",
            "Summarize this support ticket in {{ n }} bullets:\n{{ ticket }}",
            "v1",
        ),
    ]:
        lab.api(
            "POST",
            f"projects/default/prompts/{name}/versions",
            {"template": template, "message": message, "model": "fake/echo"},
        )
    lab.api("PUT", "projects/default/prompts/classify-intent/labels/production", {"version": 1})
    lab_page.command("llmlab:refresh")
    expect(lab_page.sidebar.get_by_label("Project", exact=True)).to_have_value("default")

    # 1. a new prompt, with live variable detection and preview
    lab_page.sidebar.get_by_role("button", name="New prompt", exact=True).click()
    editor_view = page.locator(".jp-llmlab-PromptWidget:visible")
    editor_view.get_by_label("Prompt name", exact=True).fill("greet")
    lab_page.type_template(editor_view, "Hello {{ name }}!")
    side = editor_view.get_by_role("complementary", name="Variables and preview", exact=True)
    expect(side.get_by_label("Preview value for name", exact=True)).to_be_visible()
    side.get_by_label("Preview value for name", exact=True).fill("Ada")
    expect(side.get_by_label("Rendered preview", exact=True)).to_have_text("Hello Ada!")
    # a template error is shown inline, at its line
    lab_page.type_template(editor_view, "Hello {{ name }}!\n{% if %}")
    expect(editor_view.get_by_role("alert").filter(has_text=re.compile(r"^Line 2"))).to_be_visible()
    lab_page.type_template(editor_view, "Hello {{ name }}!")
    editor_view.get_by_label("Model", exact=True).fill("fake/echo")
    editor_view.get_by_label("Commit message", exact=True).fill("first version")
    editor_view.get_by_role("button", name="Save version", exact=True).click()
    view = lab_page.prompt_view("greet")
    expect(view.get_by_role("tab", name="Versions", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    expect(view.get_by_role("button", name="Version 1", exact=True)).to_be_visible()

    # 2. a second version
    panel = lab_page.tab(view, "New version")
    lab_page.type_template(panel, "Hello {{ name }}, welcome to {{ place }}.")
    expect(panel.get_by_label("Preview value for place", exact=True)).to_be_visible()
    panel.get_by_label("Preview value for name", exact=True).fill("Ada")
    panel.get_by_label("Preview value for place", exact=True).fill("the lab")
    expect(panel.get_by_label("Rendered preview", exact=True)).to_have_text(
        "Hello Ada, welcome to the lab."
    )
    panel.get_by_label("Commit message", exact=True).fill("welcome them somewhere")
    lab_page.screenshot("prompt-editor")
    panel.get_by_role("button", name="Save version", exact=True).click()
    expect(view.get_by_role("tab", name="Versions", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    panel = view.get_by_role("tabpanel")
    expect(panel.get_by_role("button", name="Version 2", exact=True)).to_be_visible()
    expect(panel.get_by_role("heading", name="greet v2", exact=True)).to_be_visible()
    expect(panel.get_by_label("Template", exact=True)).to_have_text(
        "Hello {{ name }}, welcome to {{ place }}."
    )
    expect(panel.locator(".jp-llmlab-meta")).to_contain_text("welcome them somewhere")
    expect(lab_page.prompt_rows().filter(has_text="greet")).to_contain_text("v2")
    lab_page.screenshot("prompt-versions")

    # 3. diff v1 / v2 in the merge view
    panel = lab_page.tab(view, "Diff")
    panel.get_by_label("From version", exact=True).select_option("1")
    panel.get_by_label("To version", exact=True).select_option("2")
    merge = panel.locator(".cm-mergeView")
    expect(merge).to_be_visible()
    expect(merge.locator(".cm-merge-a .cm-content")).to_contain_text("Hello {{ name }}!")
    expect(merge.locator(".cm-merge-b .cm-content")).to_contain_text("welcome to {{ place }}")
    expect(merge.locator(".cm-changedLine").first).to_be_visible()
    lab_page.screenshot("prompt-diff")

    # 4. labels: production on v1, then moved to v2 (each move confirmed)
    panel = lab_page.tab(view, "Labels")
    panel.get_by_label("Label name", exact=True).fill("production")
    panel.get_by_label("Target version", exact=True).select_option("1")
    panel.get_by_role("button", name="Move label", exact=True).click()
    lab_page.confirm_dialog("Move")
    current = panel.get_by_role("table", name="Current labels", exact=True)
    expect(current.get_by_role("row", name=re.compile("production"))).to_contain_text("v1")
    panel.get_by_label("Target version", exact=True).select_option("2")
    panel.get_by_role("button", name="Move label", exact=True).click()
    expect(page.locator(".jp-Dialog")).to_contain_text("from v1 to v2")
    lab_page.confirm_dialog("Move")
    expect(current.get_by_role("row", name=re.compile("production"))).to_contain_text("v2")
    history = panel.get_by_role("table", name="Label history", exact=True)
    expect(history.get_by_role("row")).to_have_count(3)  # header + two moves
    lab_page.screenshot("prompt-labels")
    assert lab.api("GET", "projects/default/prompts/greet")["labels"] == {"production": 2}

    # 5. insert into a notebook, run the cell, read its output
    notebook = lab_page.new_notebook()
    lab_page.wait_kernel_idle(notebook)
    lab_page.main_tab("greet").click()
    panel = lab_page.tab(view, "Versions")
    panel.get_by_role("button", name="Version 2", exact=True).click()
    panel.get_by_role(
        "button", name="Insert greet by label production into the notebook", exact=True
    ).click()
    expect(notebook).to_be_visible()
    cell = notebook.locator(".jp-CodeCell", has_text="lab.prompts.get")
    expect(cell.locator(".cm-content")).to_contain_text('lab = Lab(project="default")')
    expect(cell.locator(".cm-content")).to_contain_text(
        'prompt = lab.prompts.get("greet", label="production")'
    )
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea-output")
    expect(output).to_contain_text("prompt='greet'", timeout=60_000)
    expect(output).to_contain_text("number=2")
    lab_page.screenshot("notebook-insert")
    lab_page.main_tab("greet").click()
    lab_page.screenshot("sidebar-prompts", lab_page.sidebar)

    # 6. the dark theme: every colour comes from JupyterLab's theme variables
    lab_page.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    expect(page.locator("body[data-jp-theme-name='JupyterLab Dark']")).to_be_attached()
    lab_page.tab(view, "Diff")
    expect(view.locator(".cm-mergeView")).to_be_visible()
    page.wait_for_timeout(300)  # the theme's CSS transition
    lab_page.screenshot("prompt-diff-dark")
    lab_page.command("apputils:change-theme", {"theme": "JupyterLab Light"})
    expect(page.locator("body[data-jp-theme-name='JupyterLab Light']")).to_be_attached()
    assert lab_page.errors == []


def test_untrusted_text_is_shown_as_text(lab, lab_page):
    """XSS payloads in every field (names excepted: slugs) are displayed, never executed."""
    page = lab_page.page
    lab.api("POST", "projects", {"slug": "xss", "title": XSS})
    lab.api(
        "POST",
        "projects/xss/prompts/payload/versions",
        {
            "template": [
                {"role": "system", "content": XSS},
                {"role": "user", "content": "Answer {{ q }} " + XSS},
            ],
            "message": XSS,
            "description": XSS,
            "model": "fake/echo",
            "params": {"note": XSS},
        },
    )
    lab.api(
        "POST",
        "projects/xss/prompts/payload/versions",
        {
            "template": [{"role": "user", "content": XSS + " v2 {{ q }}"}],
            "message": "second " + XSS,
        },
    )
    lab.api("PUT", "projects/xss/prompts/payload/labels/production", {"version": 2})
    csv = f'question,answer\n"{XSS.replace(chr(34), chr(34) * 2)}",ok\n'.encode()
    request = urllib.request.Request(
        f"{lab.url}llmlab/api/projects/xss/datasets/evil/versions?format=csv&message=x",
        data=csv,
        method="POST",
        headers={"Authorization": f"token {lab.token}", "Content-Type": "text/csv"},
    )
    urllib.request.urlopen(request, timeout=30).close()

    lab_page.command("llmlab:refresh")
    lab_page.select_project("xss")
    view = lab_page.open_prompt("payload")
    expect(view.locator(".jp-llmlab-PromptView-desc")).to_have_text(XSS)
    panel = view.get_by_role("tabpanel")
    expect(panel.get_by_label("Message 1 (user)", exact=True)).to_have_text(XSS + " v2 {{ q }}")
    expect(panel.locator(".jp-llmlab-meta")).to_contain_text("second " + XSS)
    panel.get_by_role("button", name="Version 1", exact=True).click()
    expect(panel.get_by_label("Message 1 (system)", exact=True)).to_have_text(XSS)
    expect(panel.get_by_label("Message 2 (user)", exact=True)).to_have_text("Answer {{ q }} " + XSS)
    expect(panel.get_by_label("Parameters", exact=True)).to_contain_text("onerror")
    lab_page.tab(view, "Diff")
    expect(view.locator(".cm-mergeView")).to_contain_text("<script>")
    lab_page.tab(view, "Labels")
    lab_page.tab(view, "New version")
    expect(view.get_by_label("Preview value for q", exact=True)).to_be_visible()
    lab_page.command("llmlab:open-dataset", {"project": "xss", "name": "evil"})
    table = page.get_by_role("table", name="Rows of evil v1", exact=True)
    expect(table).to_contain_text(XSS)

    assert page.evaluate("() => window.__llmlabXss") is None
    ours = ".jp-llmlab-PromptWidget img, .jp-llmlab-DatasetWidget img, #jp-llmlab-sidebar img"
    assert page.locator(ours).count() == 0
    assert (
        page.locator(".jp-llmlab-PromptWidget script, .jp-llmlab-DatasetWidget script").count() == 0
    )
    assert lab_page.errors == []


def test_dataset_upload_and_preview(lab, lab_page):
    page = lab_page.page
    lab_page.command("llmlab:open-datasets")
    sidebar = lab_page.sidebar
    sidebar.get_by_role("button", name="Upload dataset", exact=True).click()
    form = sidebar.get_by_role("form", name="Upload dataset", exact=True)
    rows = "".join(f"What is {i} + {i}?,{2 * i}\n" for i in range(120))
    form.locator("input[type=file]").set_input_files(
        {
            "name": "arithmetic.csv",
            "mimeType": "text/csv",
            "buffer": ("question,answer\n" + rows).encode(),
        }
    )
    expect(form.get_by_label("Dataset name", exact=True)).to_have_value("arithmetic")
    expect(form.get_by_label("Format", exact=True)).to_have_value("csv")
    form.get_by_label("Message", exact=True).fill("120 sums")
    form.get_by_role("button", name="Upload file", exact=True).click()
    item = sidebar.get_by_role("button", name="Open dataset arithmetic", exact=True)
    expect(item).to_be_visible()
    item.click()
    table = page.get_by_role("table", name="Rows of arithmetic v1", exact=True)
    expect(table).to_contain_text("What is 3 + 3?")
    expect(page.locator(".jp-llmlab-DatasetWidget .jp-llmlab-meta")).to_contain_text(
        "answer: integer"
    )
    expect(page.get_by_text("Rows 1–50 of 120")).to_be_visible()
    page.get_by_role("button", name="Next rows", exact=True).click()
    expect(page.get_by_text("Rows 51–100 of 120")).to_be_visible()
    expect(table).to_contain_text("What is 60 + 60?")
    lab_page.screenshot("dataset-preview")
    assert lab_page.errors == []


def test_ten_thousand_prompts_stay_fast(lab, lab_page):
    """The list is virtualised: 10,000 prompts page in while the DOM keeps a few dozen rows."""
    from sqlalchemy import insert, select

    from llmlab_jupyter.store.engine import make_engine
    from llmlab_jupyter.store.orm.catalog import ProjectRow, PromptRow, PromptVersionRow

    lab.api("POST", "projects", {"slug": "big", "title": "Ten thousand prompts"})
    engine = make_engine(lab.database_url)
    with engine.begin() as conn:  # bulk seed: the service layer saves ~200 prompts/s
        project_id = conn.execute(
            select(ProjectRow.id).where(ProjectRow.slug == "big")
        ).scalar_one()
        conn.execute(
            insert(PromptRow),
            [
                {
                    "project_id": project_id,
                    "name": f"p{i:05d}",
                    "description": f"prompt {i}",
                    "kind": "text",
                    "latest_version": 1,
                    "created_by": "seed",
                }
                for i in range(10_000)
            ],
        )
        ids = conn.execute(select(PromptRow.id).where(PromptRow.project_id == project_id)).scalars()
        conn.execute(
            insert(PromptVersionRow),
            [
                {
                    "prompt_id": pid,
                    "number": 1,
                    "kind": "text",
                    "template": "Hi",
                    "variables": [],
                    "declared_variables": [],
                    "params": {},
                    "content_hash": f"h{pid}",
                    "created_by": "seed",
                }
                for pid in ids
            ],
        )
    engine.dispose()

    lab_page.command("llmlab:refresh")
    lab_page.select_project("big")
    count = lab_page.sidebar.locator(".jp-llmlab-count")
    expect(count).to_have_text("100+ prompts")
    listbox = lab_page.sidebar.get_by_role("listbox", name="Prompts", exact=True)
    listbox.focus()
    started = time.monotonic()
    while count.inner_text() != "10000 prompts":
        assert time.monotonic() - started < 300, (
            count.inner_text()
        )  # a hang guard, not a speed test
        listbox.focus()  # keep the keyboard on the list while pages load
        lab_page.page.keyboard.press("End")
        lab_page.page.wait_for_timeout(50)
    expect(listbox.get_by_role("option", selected=True)).to_contain_text("p09999")
    rendered = lab_page.prompt_rows().count()
    assert rendered < 80, f"{rendered} rows in the DOM for 10,000 prompts"
    lab_page.search("p0500")
    expect(count).to_have_text("10 prompts")  # p05000–p05009
    assert lab_page.errors == []

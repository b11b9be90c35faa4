"""alice in Chromium: logs in to the Hub through its login form, opens JupyterLab on her
server and, in the LLM Lab sidebar (served by her server's remote mode from the service),
finds her prompt and reads its text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hubharness.run import HubRun
from hubharness.seed import PROMPT_TEXT, Seeded

from llmlab_jupyter.testing.browser import CHROMIUM, CHROMIUM_ARGS
from llmlab_jupyter.testing.services import require_service

TIMEOUT = 30_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        require_service("Chromium", f"not found at {CHROMIUM}: `apt-get install -y chromium`")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def test_alice_sees_her_prompt_in_the_sidebar_on_the_hub(
    user_servers: HubRun, alice_work: Seeded, page: Any
) -> None:
    from playwright.sync_api import expect

    hub = user_servers.hub
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{hub.url}hub/login")
    page.locator("#username_input").fill("alice")
    page.locator("#password_input").fill(hub.password)
    page.locator("#login_submit").click()
    page.wait_for_url("**/user/alice/**", timeout=60_000)
    page.goto(f"{hub.url}user/alice/lab")
    page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)

    tab = page.locator(".jp-SideBar .lm-TabBar-tab[data-id='jp-llmlab-sidebar']")
    expect(tab).to_be_visible(timeout=60_000)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    sidebar = page.locator("#jp-llmlab-sidebar")
    expect(sidebar).to_be_visible()
    rows = sidebar.get_by_role("listbox", name="Prompts", exact=True).get_by_role("option")
    row = rows.filter(has=page.locator(".jp-llmlab-PromptRow-name", has_text=alice_work.prompt))
    expect(row).to_have_count(1)
    row.first.click()
    view = page.locator(".jp-llmlab-PromptWidget:visible").filter(
        has=page.locator("h2", has_text=alice_work.prompt)
    )
    expect(view).to_be_visible()
    expect(view).to_contain_text(PROMPT_TEXT.split("{{")[0].strip())
    body = page.content()
    hub.client.record("BROWSER", page.url, 200, body)

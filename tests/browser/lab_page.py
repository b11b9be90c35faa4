"""``LabPage``: the JupyterLab page and the LLM Lab views, as a test sees them.

Locators follow what a user reads (roles and accessible names); commands run through
``window.jupyterapp`` (the server runs with ``expose_app_in_browser``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

TIMEOUT = 20_000
HIDE_TOASTS = ".Toastify__toast-container { display: none !important; }"


class LabPage:
    def __init__(self, page: Page, url: str, token: str, screenshot_dir: tuple[Path, str]) -> None:
        self.page = page
        self.url = url
        self.token = token
        self.screenshot_dir, self.screenshot_suffix = screenshot_dir
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.set_default_timeout(TIMEOUT)

    # -- JupyterLab ------------------------------------------------------------------------
    def open(self) -> None:
        self.page.goto(f"{self.url}lab?token={self.token}&reset")
        self.page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
        self.page.wait_for_function(
            "() => window.jupyterapp"
            " && window.jupyterapp.commands.hasCommand('llmlab:open-sidebar')",
            timeout=60_000,
        )
        self.open_sidebar()

    def command(self, command: str, args: dict[str, Any] | None = None) -> Any:
        return self.page.evaluate(
            "([id, args]) => window.jupyterapp.commands.execute(id, args).then(() => null)",
            [command, args or {}],
        )

    def screenshot(self, name: str, locator: Locator | None = None) -> Path:
        path = self.screenshot_dir / f"{name}{self.screenshot_suffix}"
        self.page.mouse.move(0, 0)
        (locator or self.page).screenshot(path=str(path), animations="disabled", style=HIDE_TOASTS)
        return path

    def main_tab(self, label: str) -> Locator:
        return self.page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=label)

    def current_main(self) -> Locator:
        return self.page.locator("#jp-main-dock-panel > .lm-Widget.lm-DockPanel-widget:visible")

    # -- the sidebar ----------------------------------------------------------------------
    @property
    def sidebar(self) -> Locator:
        return self.page.locator("#jp-llmlab-sidebar")

    def open_sidebar(self) -> None:
        tab = self.page.locator(".jp-SideBar .lm-TabBar-tab[data-id='jp-llmlab-sidebar']")
        expect(tab).to_be_visible()
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
        expect(self.sidebar).to_be_visible()

    def select_project(self, slug: str) -> None:
        self.sidebar.get_by_label("Project", exact=True).select_option(slug)

    def prompt_rows(self) -> Locator:
        return self.sidebar.get_by_role("listbox", name="Prompts", exact=True).get_by_role("option")

    def search(self, text: str) -> None:
        self.sidebar.get_by_label("Search prompts", exact=True).fill(text)

    def open_prompt(self, name: str) -> Locator:
        row = self.prompt_rows().filter(
            has=self.page.locator(".jp-llmlab-PromptRow-name", has_text=name)
        )
        row.first.click()
        view = self.prompt_view(name)
        expect(view).to_be_visible()
        return view

    # -- a prompt ------------------------------------------------------------------------
    def prompt_view(self, name: str) -> Locator:
        return self.page.locator(".jp-llmlab-PromptWidget:visible").filter(
            has=self.page.locator("h2", has_text=name)
        )

    def tab(self, view: Locator, label: str) -> Locator:
        tab = view.get_by_role("tab", name=label, exact=True)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        return view.get_by_role("tabpanel")

    def type_template(self, container: Locator, text: str, label: str = "Template") -> None:
        editor = container.get_by_label(label, exact=True)
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)

    def new_prompt(self, name: str, template: str, message: str, model: str = "") -> Locator:
        self.sidebar.get_by_role("button", name="New prompt", exact=True).click()
        view = self.page.locator(".jp-llmlab-PromptWidget:visible")
        expect(view.get_by_role("heading", name="New prompt in", exact=True)).to_be_visible()
        view.get_by_label("Prompt name", exact=True).fill(name)
        self.type_template(view, template)
        if model:
            view.get_by_label("Model", exact=True).fill(model)
        view.get_by_label("Commit message", exact=True).fill(message)
        view.get_by_role("button", name="Save version", exact=True).click()
        saved = self.prompt_view(name)
        expect(saved.get_by_role("tab", name="Versions", exact=True)).to_have_attribute(
            "aria-selected", "true"
        )
        return saved

    def confirm_dialog(self, accept: str) -> None:
        dialog = self.page.locator(".jp-Dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name=accept).click()
        expect(dialog).to_be_hidden()

    # -- notebooks ---------------------------------------------------------------------
    def new_notebook(self) -> Locator:
        self.command("notebook:create-new", {"kernelName": "python3"})
        notebook = self.page.locator(".jp-NotebookPanel:visible")
        expect(notebook).to_be_visible()
        expect(notebook.locator(".jp-Notebook-cell").first).to_be_visible()
        return notebook

    def wait_kernel_idle(self, notebook: Locator) -> None:
        """Wait until the current notebook's kernel is connected and idle."""
        expect(notebook).to_be_visible()
        self.page.wait_for_function(
            """() => {
                const widget = window.jupyterapp.shell.currentWidget;
                const session = widget && widget.sessionContext;
                const kernel = session && session.session && session.session.kernel;
                return !!(session && session.isReady && kernel
                    && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
            }""",
            timeout=60_000,
        )

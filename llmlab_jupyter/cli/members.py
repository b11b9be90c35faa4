"""``llmlab members``: who has which role in the project, users and JupyterHub groups.

::

    llmlab members list
    llmlab members add bob editor               a role for user bob
    llmlab members add --group ml-team viewer   a role for every member of Hub group ml-team
    llmlab members remove --group ml-team
"""

from __future__ import annotations

import click

from .support import CliState, echo_json, pass_state, table, when


@click.group("members")
def members() -> None:
    """Members of the project: users and Hub groups, each with a role."""


@members.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def list_members(state: CliState, as_json: bool) -> None:
    """The project's members: users, then Hub groups."""
    items = state.services().projects.members(state.caller, state.project)
    if as_json:
        echo_json([m.model_dump(mode="json") for m in items])
        return
    click.echo(
        table(
            ["KIND", "NAME", "ROLE", "ADDED", "BY"],
            [[m.kind, m.user or m.group, m.role, when(m.created_at), m.created_by] for m in items],
        )
    )


@members.command("add")
@click.argument("name")
@click.argument("role", type=click.Choice(["owner", "editor", "viewer"]))
@click.option("--group", "is_group", is_flag=True, help="NAME is a JupyterHub group.")
@pass_state
def add_member(state: CliState, name: str, role: str, is_group: bool) -> None:
    """Give user (or, with --group, Hub group) NAME the ROLE, or change it (owners only)."""
    projects = state.services().projects
    if is_group:
        projects.set_group(state.caller, state.project, name, role)
    else:
        projects.set_member(state.caller, state.project, name, role)
    click.echo(f"{'group' if is_group else 'user'} {name} is {role} of {state.project}")


@members.command("remove")
@click.argument("name")
@click.option("--group", "is_group", is_flag=True, help="NAME is a JupyterHub group.")
@pass_state
def remove_member(state: CliState, name: str, is_group: bool) -> None:
    """Take the role of user (or, with --group, Hub group) NAME away (owners only)."""
    projects = state.services().projects
    if is_group:
        projects.remove_group(state.caller, state.project, name)
    else:
        projects.remove_member(state.caller, state.project, name)
    click.echo(f"{'group' if is_group else 'user'} {name} removed from {state.project}")

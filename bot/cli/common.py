"""What every CLI command shares: building services and turning errors into messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from agent.errors import (
    AgentError,
    ApprovalAlreadyResolvedError,
    ApprovalNotFoundError,
    NotAnApproverError,
    PolicyFileError,
    SettingsError,
    UndoNotAllowedError,
)
from bot.container import Services, build_services
from bot.settings import Settings, load_settings

EXIT_REFUSED = 1
"""The request was understood and refused (already decided, not an approver ...)."""
EXIT_BAD_INPUT = 2
"""Bad input: settings, policy file, arguments."""


def console() -> Console:
    return Console()


def error_console() -> Console:
    return Console(stderr=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    error_console().print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn revgate's errors into one clear line and an exit code; nothing else is caught."""
    try:
        yield
    except (SettingsError, PolicyFileError) as error:
        fail(str(error))
    except (ApprovalAlreadyResolvedError, NotAnApproverError, UndoNotAllowedError) as error:
        fail(str(error), EXIT_REFUSED)
    except ApprovalNotFoundError as error:
        fail(str(error), EXIT_BAD_INPUT)
    except AgentError as error:
        fail(f"{type(error).__name__}: {error}", EXIT_REFUSED)


def settings() -> Settings:
    with reported_errors():
        return load_settings()


@contextmanager
def services(config: Settings | None = None) -> Iterator[Services]:
    with reported_errors():
        built = build_services(config or settings())
        try:
            yield built
        finally:
            built.close()

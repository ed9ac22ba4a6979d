"""Invite senders: a folder of ``.ics`` files, and real SMTP against a local aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import functools
import os
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from icalendar import Calendar

from agent.errors import InviteDeliveryError
from agent.meetings.invites import Meeting, invite
from bot.invite_senders import (
    FolderInvites,
    SmtpInvites,
    SmtpServer,
    connect_invites,
    invite_message_id,
    parse_invites,
)
from bot.settings import load_settings

PASSWORD = "s3cr3t-p@ss"
USER = "revgate"
SENDER = "meetings@revgate.example"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
MEETING = Meeting(
    uid="meeting-42@revgate.example",
    start=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    end=datetime(2026, 12, 1, 15, 30, tzinfo=UTC),
    summary="Intro call with Acme",
    organizer_name="Ann Owner",
    organizer_email="ann@revgate.example",
    attendee_name="Bob Lead",
    attendee_email="bob@acme.example",
    stamp=NOW,
)


class FixedClock:
    def now(self) -> datetime:
        return NOW


# -- a local SMTP server ----------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, or answers as a test scripts it."""

    reject_recipient: str | None = None
    data_reply: str | None = None
    received: list[tuple[Envelope, bool]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.reject_recipient is not None:
            return self.reject_recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append((envelope, bool(session.authenticated)))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope, _ in self.received:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@functools.cache
def _authority() -> tuple[trustme.CA, trustme.LeafCert]:
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1")


def _server_tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _authority()[1].configure_cert(context)
    return context


def _client_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    _authority()[0].configure_trust(context)
    return context


Serve = Callable[..., tuple[Mailbox, int]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start aiosmtpd servers on 127.0.0.1 (each in its own thread); all are stopped afterwards."""
    controllers: list[Controller] = []

    def start(mailbox: Mailbox | None = None, **options: Any) -> tuple[Mailbox, int]:
        mailbox = mailbox or Mailbox()
        port = _free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return mailbox, port

    yield start
    for controller in controllers:
        controller.stop()


def _sender(url: str, **options: Any) -> SmtpInvites:
    server = parse_invites(url)
    assert isinstance(server, SmtpServer)
    options.setdefault("tls", _client_tls())
    return SmtpInvites(server, sender=SENDER, clock=FixedClock(), **options)


def _send(sender: SmtpInvites | FolderInvites, meeting: Meeting = MEETING, method: str = "REQUEST") -> str:
    return sender.send(
        uid=meeting.uid,
        sequence=meeting.sequence,
        method=method,
        to=meeting.attendee_email,
        subject=meeting.summary,
        body=invite(meeting, "CANCEL" if method == "CANCEL" else "REQUEST"),
    )


def _calendar_part(message: EmailMessage) -> EmailMessage:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    return part


def _no_password_in(error: pytest.ExceptionInfo[InviteDeliveryError]) -> None:
    assert PASSWORD not in str(error.value)
    assert "s3cr3t" not in str(error.value)


# -- SMTP: what arrives -----------------------------------------------------------------------


def test_an_invite_arrives_as_a_calendar_request_with_its_headers(serve: Serve) -> None:
    mailbox, port = serve()

    where = _send(_sender(f"smtp://127.0.0.1:{port}"))

    ((envelope, _),) = mailbox.received
    (message,) = mailbox.messages()
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["bob@acme.example"])
    assert message["From"] == SENDER
    assert message["To"] == "bob@acme.example"
    assert message["Subject"] == "Intro call with Acme"
    assert message["Date"] == "Tue, 24 Nov 2026 09:30:00 +0000"
    assert message["Message-ID"] == where == invite_message_id(MEETING.uid, 0, "REQUEST", sender=SENDER)
    part = _calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    event = Calendar.from_ical(part.get_content())
    assert event["METHOD"] == "REQUEST"
    (vevent,) = event.walk("VEVENT")
    assert (str(vevent["UID"]), int(str(vevent["SEQUENCE"]))) == (MEETING.uid, 0)


def test_the_calendar_is_an_alternative_to_the_text_and_attached_as_invite_ics(serve: Serve) -> None:
    mailbox, port = serve()

    _send(_sender(f"smtp://127.0.0.1:{port}"))

    (message,) = mailbox.messages()
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert isinstance(alternative, EmailMessage)
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/calendar"]
    assert attachment.get_filename() == "invite.ics"
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_content() == invite(MEETING)


def test_a_cancellation_arrives_as_method_cancel(serve: Serve) -> None:
    mailbox, port = serve()
    cancelled = MEETING.cancelled(stamp=NOW)

    _send(_sender(f"smtp://127.0.0.1:{port}"), cancelled, "CANCEL")

    (message,) = mailbox.messages()
    part = _calendar_part(message)
    assert part.get_param("method") == "CANCEL"
    event = Calendar.from_ical(part.get_content())
    assert event["METHOD"] == "CANCEL"
    (vevent,) = event.walk("VEVENT")
    assert (str(vevent["UID"]), int(str(vevent["SEQUENCE"])), str(vevent["STATUS"])) == (
        MEETING.uid,
        1,
        "CANCELLED",
    )
    assert message["Message-ID"] == invite_message_id(MEETING.uid, 1, "CANCEL", sender=SENDER)


def test_a_resent_version_carries_the_same_message_id_and_a_new_one_another(serve: Serve) -> None:
    mailbox, port = serve()
    sender = _sender(f"smtp://127.0.0.1:{port}")

    _send(sender)
    _send(sender)
    _send(sender, MEETING.moved(MEETING.start, MEETING.end, stamp=NOW))

    first, again, moved = (message["Message-ID"] for message in mailbox.messages())
    assert first == again != moved


# -- SMTP: TLS and login ----------------------------------------------------------------------


def test_a_password_is_sent_after_starttls_and_the_server_accepts_it(serve: Serve) -> None:
    mailbox, port = serve(tls_context=_server_tls(), authenticator=_authenticate, auth_required=True)

    _send(_sender(f"smtp://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}"))

    ((_, authenticated),) = mailbox.received
    assert authenticated


def test_smtps_speaks_tls_from_the_start_and_logs_in(serve: Serve) -> None:
    # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
    mailbox, port = serve(ssl_context=_server_tls(), authenticator=_authenticate, auth_require_tls=False)

    _send(_sender(f"smtps://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}"))

    ((_, authenticated),) = mailbox.received
    assert authenticated


def test_a_wrong_password_is_an_invite_delivery_error_without_the_password(serve: Serve) -> None:
    mailbox, port = serve(tls_context=_server_tls(), authenticator=_authenticate, auth_required=True)

    with pytest.raises(InviteDeliveryError, match="refused the login") as error:
        _send(_sender(f"smtp://{USER}:s3cr3t-wrong@127.0.0.1:{port}"))

    _no_password_in(error)
    assert mailbox.received == []


def test_a_password_is_never_sent_to_a_server_without_starttls(serve: Serve) -> None:
    mailbox, port = serve(authenticator=_authenticate, auth_require_tls=False)

    with pytest.raises(InviteDeliveryError, match="does not offer STARTTLS") as error:
        _send(_sender(f"smtp://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}"))

    _no_password_in(error)
    assert mailbox.received == []


def test_an_untrusted_certificate_is_an_invite_delivery_error(serve: Serve) -> None:
    mailbox, port = serve(tls_context=_server_tls())

    with pytest.raises(InviteDeliveryError, match=re.escape("TLS with mail server 127.0.0.1")):
        _send(_sender(f"smtp://127.0.0.1:{port}", tls=ssl.create_default_context()))

    assert mailbox.received == []


# -- SMTP: failures -------------------------------------------------------------------------


def test_a_refused_connection_is_an_invite_delivery_error() -> None:
    port = _free_port()

    with pytest.raises(InviteDeliveryError, match=f"cannot reach the mail server 127.0.0.1:{port}") as error:
        _send(_sender(f"smtp://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}"))

    _no_password_in(error)


def test_a_refused_recipient_is_an_invite_delivery_error(serve: Serve) -> None:
    _, port = serve(Mailbox(reject_recipient=f"550 5.1.1 no mailbox here ({PASSWORD})"))

    with pytest.raises(
        InviteDeliveryError, match=re.escape("refused the recipient bob@acme.example: 550")
    ) as error:
        _send(_sender(f"smtp://127.0.0.1:{port}"))

    assert "no mailbox here" in str(error.value)


def test_a_server_error_is_an_invite_delivery_error_without_the_password_it_echoes(serve: Serve) -> None:
    _, port = serve(
        Mailbox(data_reply=f"451 4.3.0 try again later, {PASSWORD}"),
        tls_context=_server_tls(),
        authenticator=_authenticate,
    )

    with pytest.raises(InviteDeliveryError, match=re.escape("answered 451 4.3.0 try again later")) as error:
        _send(_sender(f"smtp://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}"))

    _no_password_in(error)


def test_a_server_that_never_answers_is_an_invite_delivery_error_after_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never greets
        port = silent.getsockname()[1]

        with pytest.raises(InviteDeliveryError, match=re.escape("did not answer within 0.2 s")) as error:
            _send(_sender(f"smtp://{USER}:{PASSWORD.replace('@', '%40')}@127.0.0.1:{port}", timeout=0.2))

    _no_password_in(error)


# -- the folder -------------------------------------------------------------------------------


def test_the_folder_gets_one_file_per_version_named_by_uid_sequence_and_method(tmp_path: Path) -> None:
    folder = FolderInvites(tmp_path / "invites")

    first = _send(folder)
    moved = _send(folder, MEETING.moved(MEETING.start, MEETING.end, stamp=NOW))
    cancel = _send(folder, MEETING.cancelled(stamp=NOW).cancelled(stamp=NOW), "CANCEL")

    assert [Path(path).name for path in (first, moved, cancel)] == [
        "meeting-42@revgate.example-0-request.ics",
        "meeting-42@revgate.example-1-request.ics",
        "meeting-42@revgate.example-2-cancel.ics",
    ]
    assert Path(first).read_bytes() == invite(MEETING)
    assert sorted(path.name for path in (tmp_path / "invites").iterdir()) == sorted(
        Path(path).name for path in (first, moved, cancel)
    )


def test_a_version_already_written_is_not_written_again(tmp_path: Path) -> None:
    folder = FolderInvites(tmp_path)
    path = Path(_send(folder))
    path.write_bytes(b"left as it was")

    assert _send(folder) == str(path)
    assert path.read_bytes() == b"left as it was"


def test_a_uid_cannot_leave_the_folder(tmp_path: Path) -> None:
    folder = FolderInvites(tmp_path / "invites")

    path = Path(
        folder.send(uid="../../x/y", sequence=0, method="REQUEST", to="a@b.c", subject="s", body=b"x")
    )

    assert path.parent == tmp_path / "invites"
    assert path.name == "..%2F..%2Fx%2Fy-0-request.ics"


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(source: str, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)

    with pytest.raises(InviteDeliveryError, match="No space left on device"):
        _send(FolderInvites(tmp_path))

    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_an_invite_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")

    with pytest.raises(InviteDeliveryError, match=r"cannot write invites to .*a-file/invites"):
        _send(FolderInvites(tmp_path / "a-file" / "invites"))


# -- wiring ------------------------------------------------------------------------------------


def test_the_default_is_the_folder_under_dot_revgate() -> None:
    sender = connect_invites(load_settings())

    assert isinstance(sender, FolderInvites)
    assert sender.folder == Path(".revgate/invites")


def test_an_smtp_url_connects_the_mail_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVGATE_INVITES", f"smtps://{USER}:pw@mail.revgate.example")
    monkeypatch.setenv("REVGATE_INVITE_FROM", SENDER)

    sender = connect_invites(load_settings())

    assert isinstance(sender, SmtpInvites)
    assert (sender.server.host, sender.server.port, sender.server.implicit_tls) == (
        "mail.revgate.example",
        465,
        True,
    )
    assert (sender.sender, sender.timeout) == (SENDER, 10.0)

"""Where meeting invites go: a folder of ``.ics`` files (the default), or a mail server.

``REVGATE_INVITES`` picks one (:func:`parse_invites` reads it, :func:`connect_invites` builds
the sender):

- ``folder:<path>`` writes each version of an invite once, atomically, as
  ``<uid>-<sequence>-<method>.ics``; the offline demo uses it.
- ``smtp://[user:pass@]host[:port]`` (port 587 by default) upgrades with STARTTLS whenever
  the server offers it, checking the certificate; with a user and password it requires
  STARTTLS, so a password never crosses the network in the clear. Without STARTTLS on offer
  and without credentials, it sends in plain text (a relay on the same host or network).
- ``smtps://[user:pass@]host[:port]`` (port 465 by default) speaks TLS from the start.

Every failure is an ``InviteDeliveryError`` whose message never contains the password.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from pydantic import SecretStr

from agent.errors import InviteDeliveryError
from agent.ports import Clock, InviteSender, SystemClock

if TYPE_CHECKING:
    from bot.settings import Settings

DEFAULT_INVITES = "folder:.revgate/invites"
SMTP_TIMEOUT = 10.0
"""Seconds to wait for the mail server at each step (connect, every reply)."""
_SMTP_PORTS = {"smtp": 587, "smtps": 465}
_METHOD = re.compile(r"^[A-Za-z][A-Za-z-]*$")
_MAX_NAME_UID = 120
"""Characters of the encoded uid kept in a file name (names stay well under 255 bytes)."""


@dataclass(frozen=True)
class InviteFolder:
    """``folder:<path>``: invites are written as files under ``path``."""

    path: Path

    def __str__(self) -> str:
        return f"folder:{self.path}"


@dataclass(frozen=True)
class SmtpServer:
    """``smtp://`` or ``smtps://``: invites are mailed through this server."""

    host: str
    port: int
    implicit_tls: bool
    """``smtps://``: TLS from the first byte, rather than STARTTLS."""
    username: str | None = None
    password: SecretStr | None = None

    def __str__(self) -> str:
        user = f"{quote(self.username, safe='')}:***@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{user}{host}:{self.port}"


InviteTarget = InviteFolder | SmtpServer


def parse_invites(value: str) -> InviteTarget:
    """Read a ``REVGATE_INVITES`` value.

    Raises:
        ValueError: the value is none of the three forms. The message never repeats the
            value, which may hold a password.
    """
    value = value.strip()
    if value.startswith("folder:"):
        folder = value.removeprefix("folder:").strip()
        if not folder:
            raise ValueError("folder: needs a path, as in folder:.revgate/invites")
        return InviteFolder(Path(folder))
    shape = "must be folder:<path>, smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]"
    parts = urlsplit(value)
    if parts.scheme not in _SMTP_PORTS:
        raise ValueError(shape)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{shape}; the port is not a number from 1 to 65535")
    if not parts.hostname:
        raise ValueError(f"{shape}; the host is missing")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shape}; nothing may follow the host and port")
    if (parts.username is None) != (parts.password is None):
        raise ValueError(f"{shape}; give a user and a password, or neither")
    return SmtpServer(
        host=parts.hostname,
        port=_SMTP_PORTS[parts.scheme] if port is None else port,
        implicit_tls=parts.scheme == "smtps",
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else SecretStr(unquote(parts.password)),
    )


def connect_invites(settings: Settings, *, clock: Clock | None = None) -> InviteSender:
    """The sender ``REVGATE_INVITES`` names (part of the composition root); nothing is contacted yet."""
    target = settings.invites
    if isinstance(target, SmtpServer):
        # Settings refuse an smtp(s) URL without REVGATE_INVITE_FROM; a None here is a wiring bug.
        assert settings.invite_from is not None, "REVGATE_INVITE_FROM is required with SMTP"
        return SmtpInvites(target, sender=settings.invite_from, clock=clock)
    return FolderInvites(target.path)


class FolderInvites:
    """Writes each invite to a folder, once per version (uid, sequence, method).

    The file appears whole or not at all (a temporary file, then ``os.replace``); a version
    already in the folder is left as it is, so a retried send writes nothing.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, uid: str, sequence: int, method: str, to: str, subject: str, body: bytes) -> str:
        method = _checked_method(method)
        if sequence < 0:
            raise ValueError("sequence cannot be negative")
        target = self.folder / f"{_file_uid(uid)}-{sequence}-{method.lower()}.ics"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                _write_atomically(target, body)
        except OSError as error:
            raise InviteDeliveryError(
                f"cannot write invites to {self.folder}: {error.strerror or error}"
            ) from error
        return str(target)


class SmtpInvites:
    """Mails each invite through an SMTP server, the way calendar clients recognise one.

    The message is ``multipart/mixed``: a ``multipart/alternative`` of a short text and the
    ``text/calendar; method=...`` part, then the same calendar attached as ``invite.ics``.
    Its ``Message-ID`` is derived from uid, sequence and method, so a resent version carries
    the same id and a mail system (or a person) can tell it is the same message.
    """

    def __init__(
        self,
        server: SmtpServer,
        *,
        sender: str,
        timeout: float = SMTP_TIMEOUT,
        clock: Clock | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls`` checks the server's certificate; by default against the system's authorities."""
        self.server = server
        self.sender = sender
        self.timeout = timeout
        self._clock = clock or SystemClock()
        self._tls = tls or ssl.create_default_context()

    def send(self, *, uid: str, sequence: int, method: str, to: str, subject: str, body: bytes) -> str:
        method = _checked_method(method)
        message_id = invite_message_id(uid, sequence, method, sender=self.sender)
        try:
            message = self._message(message_id, method=method, to=to, subject=subject, body=body)
        except ValueError as error:  # a header with a line break, or a body that is not UTF-8
            raise InviteDeliveryError(f"cannot write an invite to {to!r}: {error}") from error
        try:
            self._deliver(message, to)
        except OSError as error:  # smtplib's, ssl's and the socket's errors all are
            raise InviteDeliveryError(self._scrub(self._why(error, to))) from error
        return message_id

    def _message(self, message_id: str, *, method: str, to: str, subject: str, body: bytes) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = message_id
        if method == "CANCEL":
            text = f"Cancelled: {subject}\n\nOpen the attached update to remove it from your calendar.\n"
        else:
            text = f"Invitation: {subject}\n\nOpen the attached invitation to add it to your calendar.\n"
        message.set_content(text)
        calendar = body.decode("utf-8")
        message.add_alternative(calendar, subtype="calendar", params={"method": method})
        message.add_attachment(body, maintype="application", subtype="ics", filename="invite.ics")
        return message

    def _deliver(self, message: EmailMessage, to: str) -> None:
        server = self.server
        smtp: smtplib.SMTP
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=self._tls)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if not server.implicit_tls:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                elif server.username is not None:
                    raise _NoStartTls
            if server.username is not None and server.password is not None:
                smtp.login(server.username, server.password.get_secret_value())
            smtp.send_message(message, from_addr=self.sender, to_addrs=[to])
        except BaseException:
            smtp.close()
            raise
        # The message is handed over: a failed goodbye must not report it as undelivered.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()

    def _why(self, error: OSError, to: str) -> str:
        where = f"mail server {self.server.host}:{self.server.port}"
        if isinstance(error, _NoStartTls):
            return (
                f"{where} does not offer STARTTLS: the password is not sent in the clear "
                "(use smtps://, or a server that offers STARTTLS)"
            )
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return f"{where} refused the login of {self.server.username!r}: {_reply(error)}"
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, text = error.recipients.get(to, next(iter(error.recipients.values()), (0, b"")))
            return f"{where} refused the recipient {to}: {code} {_text(text)}"
        if isinstance(error, smtplib.SMTPSenderRefused):
            return f"{where} refused the sender {self.sender}: {_reply(error)}"
        if isinstance(error, smtplib.SMTPResponseException):
            return f"{where} answered {_reply(error)}"
        if isinstance(error, ssl.SSLError | ssl.CertificateError):
            return f"TLS with {where} failed: {getattr(error, 'reason', None) or error}"
        if isinstance(error, TimeoutError) or "timed out" in str(error):
            return f"{where} did not answer within {self.timeout:g} s"
        if isinstance(error, smtplib.SMTPException):
            return f"{where}: {error}"
        return f"cannot reach the {where}: {error.strerror or error}"

    def _scrub(self, message: str) -> str:
        # Our own messages never name the password; a server's reply echoed in them might.
        password = self.server.password
        if password is None or not password.get_secret_value():
            return message
        secret = password.get_secret_value()
        return message.replace(secret, "***").replace(quote(secret, safe=""), "***")


def invite_message_id(uid: str, sequence: int, method: str, *, sender: str) -> str:
    """The ``Message-ID`` of one version of an invite: the same for every send of it."""
    digest = hashlib.sha256(f"{uid}\n{sequence}\n{method.upper()}".encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "revgate.invalid"
    return f"<invite.{digest}@{domain}>"


class _NoStartTls(smtplib.SMTPException):
    """The server offers no STARTTLS, and there is a password to send."""


def _checked_method(method: str) -> str:
    if not _METHOD.match(method):
        raise ValueError(f"not an iTIP method: {method!r}")
    return method.upper()


def _file_uid(uid: str) -> str:
    """The uid as a file name part: percent-encoded (distinct uids stay distinct), length capped."""
    if not uid:
        raise ValueError("an invite needs a uid")
    encoded = quote(uid, safe="@")
    if len(encoded) <= _MAX_NAME_UID:
        return encoded
    return f"{encoded[: _MAX_NAME_UID - 17]}-{hashlib.sha256(uid.encode()).hexdigest()[:16]}"


def _write_atomically(target: Path, body: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


__all__ = [
    "DEFAULT_INVITES",
    "FolderInvites",
    "InviteFolder",
    "InviteTarget",
    "SmtpInvites",
    "SmtpServer",
    "connect_invites",
    "invite_message_id",
    "parse_invites",
]

"""Telling admins that a scheduled run failed: an e-mail (SMTP) and/or a Moodle message to named users.

A notice that cannot be sent is recorded with the run (the status page shows it); it never hides the
failure it was about. The web-service token is never in a notice (errors.redact).
"""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from moodle_sync.errors import MoodleError, MoodleSyncError, redact
from moodle_sync.moodle.models import InstantMessage, SentMessage
from moodle_sync.portal.config import ScheduleConfig
from moodle_sync.portal.site import Site
from moodle_sync.writing.send import send_bisecting


def failure_text(site: Site, job: str, reason: str, status: str, detail: str) -> str:
    return redact(f"moodle-sync: den schemalagda körningen {job} ({reason}) på {socket.gethostname()} "
                  f"slutade med {status}.\n\n{detail}\n\nStatussidan i portalen och `moodle-sync runs` visar "
                  f"körningarna. Webbplats: {site.settings.url}")


def notify_failure(site: Site, config: ScheduleConfig, job: str, reason: str, status: str, detail: str) -> str:
    """Send the configured notices; returns what was sent or why not, for the status page."""
    text = failure_text(site, job, reason, status, detail)
    said: list[str] = []
    if config.notify_emails:
        said.append(_email(config, f"moodle-sync: {job} {status}", text))
    if config.notify_moodle_users:
        said.append(_moodle(site, config.notify_moodle_users, text))
    return "; ".join(said)


def _email(config: ScheduleConfig, subject: str, text: str) -> str:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.smtp_from
    message["To"] = ", ".join(config.notify_emails)
    message.set_content(text)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as e:
        return f"e-mail not sent ({type(e).__name__}: {e})"
    return f"e-mailed {', '.join(config.notify_emails)}"


def _moodle(site: Site, usernames: list[str], text: str) -> str:
    try:
        api = site.api()
        users = api.users_by_field("username", usernames)
        if not users:
            return f"Moodle message not sent: no user {', '.join(usernames)}"
        answers: list[list[SentMessage]] = []
        # through the one batch sender; a message is not idempotent, so a lost answer is said, never re-sent
        send_bisecting(users, lambda batch: api.send_messages([InstantMessage(touserid=u.id, text=text)
                                                               for u in batch]),
                       on_sent=lambda _batch, answer: answers.append(answer), on_refused=_refused,
                       on_unknown=lambda _batch, _e: None, split=lambda *_: False)
    except MoodleSyncError as e:
        return f"Moodle message not sent ({str(e).splitlines()[0]})"
    if not answers:
        return (f"Moodle message to {', '.join(u.username for u in users)} may have been sent: Moodle's answer "
                f"was lost (not sent again)")
    sent = answers[0]
    ok = [u.username for u, s in zip(users, sent, strict=False) if not s.errormessage and s.msgid > 0]
    missing = sorted(set(usernames) - {u.username for u in users})
    return f"Moodle message to {', '.join(ok) or 'nobody'}" + (f" (no user {', '.join(missing)})" if missing else "")


def _refused(_batch: object, error: MoodleError) -> None:
    raise error

"""One email per channel failure, through ONHAND_SMTP_URL, until the channel recovers."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlparse

from ..settings import Settings
from .service import Channel

log = logging.getLogger(__name__)


def message(settings: Settings, ch: Channel, run_id: str, error: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.alert_from
    msg["To"] = ", ".join(ch.alert_emails)
    msg["Subject"] = f"onhand: sync of channel {ch.code} ({ch.shop}) failed"
    msg.set_content(
        f"The {ch.role} channel '{ch.code}' (store {ch.shop}) could not be synced.\n\n"
        f"What failed: {error}\n\n"
        "onhand keeps its own stock as it is and tries again at the next sync; this alert is "
        "not repeated until the channel has synced successfully again.\n\n"
        f"Run: {run_id}  (GET /v1/{ch.tenant}/sync-runs/{run_id})\n"
    )
    return msg


def send(settings: Settings, ch: Channel, run_id: str, error: str) -> bool:
    """Mail the failure to the channel's alert_emails; False when it could not be sent."""
    if not settings.smtp_url or not ch.alert_emails:
        return False
    url = urlparse(settings.smtp_url)
    try:
        with smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=10) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls()
            if url.username:
                smtp.login(url.username, url.password or "")
            smtp.send_message(message(settings, ch, run_id, error))
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("alert mail for channel %s could not be sent: %s", ch.code, exc)
        return False

"""Notifications of alert transitions: webhook (Standard Webhooks), email (SMTP) and Alertmanager.

The alerts service builds one :class:`Notifier` at start-up and calls ``await notifier.deliver(n)``
for each :class:`Notification`; acknowledge links come from :class:`AckTokens`. See
docs/notifications.md.
"""

from services.alerts.notify.ack import (
    AckSecretMissing,
    AckTokenError,
    AckTokenExpired,
    AckTokenInvalid,
    AckTokens,
    local_secret,
)
from services.alerts.notify.config import NotifySettings
from services.alerts.notify.contacts import ContactsDirectory, ContactsError, Level, Office, Recipients, load_contacts
from services.alerts.notify.metrics import NotifyMetrics
from services.alerts.notify.model import ChannelOutcome, DeliveryReport, Notification
from services.alerts.notify.notifier import Notifier

__all__ = [
    "AckSecretMissing",
    "AckTokenError",
    "AckTokenExpired",
    "AckTokenInvalid",
    "AckTokens",
    "ChannelOutcome",
    "ContactsDirectory",
    "ContactsError",
    "DeliveryReport",
    "Level",
    "Notification",
    "Notifier",
    "NotifyMetrics",
    "NotifySettings",
    "Office",
    "Recipients",
    "load_contacts",
    "local_secret",
]

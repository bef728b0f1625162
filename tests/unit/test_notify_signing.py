"""Webhook signatures against the Standard Webhooks spec, and acknowledge tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from services.alerts.notify.ack import AckSecretMissing, AckTokenExpired, AckTokenInvalid, AckTokens, local_secret
from services.alerts.notify.webhook import payload, signed_headers
from tests.notify_support import an_alert_event

# The test vector published with the Standard Webhooks reference implementations.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_published_test_vector() -> None:
    headers = signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_signature_is_the_spec_formula() -> None:
    # v1,base64(HMAC-SHA256(key = base64-decoded part after whsec_, "{id}.{timestamp}.{body}"))
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{VECTOR_ID}.{VECTOR_TIMESTAMP}.".encode() + VECTOR_BODY, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(digest).decode() == VECTOR_SIGNATURE


def test_another_body_or_id_changes_the_signature() -> None:
    base = signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)["webhook-signature"]
    assert signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, b'{"test": 1}')["webhook-signature"] != base
    assert signed_headers(VECTOR_SECRET, "msg_other", VECTOR_TIMESTAMP, VECTOR_BODY)["webhook-signature"] != base


def test_payload_is_the_alert_event_plus_level_and_ack_url() -> None:
    alert = an_alert_event()
    body = orjson.loads(payload(alert.model_dump(mode="json"), level="province", ack_url="http://x/ack/1?token=t"))
    assert body["alert_id"] == alert.alert_id
    assert body["gap"] == 0.4
    assert body["drivers"][0] == {"indicator_id": "GOV_UPTIME", "score": 1.25, "weight": 2.0, "pull": 0.35}
    assert (body["level"], body["ack_url"]) == ("province", "http://x/ack/1?token=t")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_ack_token_roundtrip_and_link() -> None:
    tokens = AckTokens("s3cret", "http://127.0.0.1:6067/", timedelta(days=7))
    alert_id = "32.73:governance:behind_trajectory:20261127T0800"
    url = tokens.url(alert_id)
    assert url.startswith("http://127.0.0.1:6067/ack/32.73%3Agovernance%3Abehind_trajectory%3A20261127T0800?token=")
    token = url.split("?token=", 1)[1]
    assert tokens.verify(token) == alert_id
    assert tokens.verify(token, alert_id) == alert_id


def test_ack_token_names_the_region_signed_with_the_alert() -> None:
    """Any worker can route a click by the token's region; the region cannot be swapped for another."""
    tokens = AckTokens("s3cret", "http://p", timedelta(hours=1))
    token = tokens.url("a1", "32.73").split("?token=", 1)[1]
    assert tokens.claim(token, "a1") == ("a1", "32.73")
    assert tokens.verify(token) == "a1"
    assert tokens.claim(tokens.token("a1")) == ("a1", None)  # a token from before links named their region
    other = tokens.token("a1", "31.71")
    sig = token.rpartition(".")[2]
    swapped = other.rpartition(".")[0] + "." + sig  # the other region's payload with this signature
    assert swapped != token
    with pytest.raises(AckTokenInvalid, match="tampered"):
        tokens.claim(swapped)
    with pytest.raises(AckTokenInvalid, match="another alert"):
        tokens.claim(token, "a2")


def test_ack_token_expires_after_its_lifetime() -> None:
    clock = Clock(1_800_000_000.0)
    tokens = AckTokens("s3cret", "http://p", timedelta(hours=1), clock=clock)
    token = tokens.token("a1")
    clock.now += 3600
    assert tokens.verify(token) == "a1"
    clock.now += 2
    with pytest.raises(AckTokenExpired, match="expired"):
        tokens.verify(token)


def test_ack_token_tampered_or_foreign_is_refused() -> None:
    tokens = AckTokens("s3cret", "http://p", timedelta(hours=1))
    token = tokens.token("a1")
    body, _, sig = token.rpartition(".")
    forged = body + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    with pytest.raises(AckTokenInvalid, match="tampered"):
        tokens.verify(forged)
    with pytest.raises(AckTokenInvalid):
        AckTokens("another secret", "http://p", timedelta(hours=1)).verify(token)
    with pytest.raises(AckTokenInvalid, match="another alert"):
        tokens.verify(token, "a2")
    with pytest.raises(AckTokenInvalid):
        tokens.verify("not-a-token")


def test_ack_tokens_need_a_secret() -> None:
    with pytest.raises(AckSecretMissing):
        AckTokens("", "http://p", timedelta(hours=1))


def test_a_link_signed_as_of_the_transition_is_the_same_on_every_send() -> None:
    # One signer, timed per link: a re-send of a transition gives the same link, valid from that time.
    now = [5_000.0]
    tokens = AckTokens("s3cret", "http://p", timedelta(hours=1), clock=lambda: now[0])
    first = tokens.url("a1", "32.73", issued_at=1_000.0)
    now[0] = 6_000.0
    assert tokens.url("a1", "32.73", issued_at=1_000.0) == first
    token = first.split("token=", 1)[1]
    now[0] = 1_000.0 + 3_599
    assert tokens.claim(token, "a1") == ("a1", "32.73")
    now[0] = 1_000.0 + 3_601  # an hour after the transition, not after the send
    with pytest.raises(AckTokenExpired):
        tokens.verify(token)


def test_the_local_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ack-secret"
    first = local_secret(path)
    assert len(first) >= 40  # 32 random bytes, base64url
    assert local_secret(path) == first  # a restart (or a second worker) reads the same one
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # What one process signs, another process with the same file verifies.
    link = AckTokens(first, "http://p", timedelta(hours=1)).token("a1", "32.73")
    assert AckTokens(local_secret(path), "http://p", timedelta(hours=1)).claim(link) == ("a1", "32.73")


def test_a_worker_against_another_cluster_needs_the_shared_secret(tmp_path: Path) -> None:
    import typer

    from pantau.cli.alerts import ack_settings
    from services.alerts.notify import NotifySettings

    with pytest.raises(typer.Exit) as refused:
        ack_settings(NotifySettings(ack_secret=None), "kafka-1.example:9092,127.0.0.1:9092", tmp_path)
    assert refused.value.exit_code == 2
    assert not (tmp_path / "ack-secret").exists()
    # On this machine's broker the kept secret is used, the same for every worker and every restart.
    local = ack_settings(NotifySettings(ack_secret=None), "127.0.0.1:9092", tmp_path)
    again = ack_settings(NotifySettings(ack_secret=None), "localhost:9092", tmp_path)
    assert local.ack_secret is not None and again.ack_secret is not None
    assert local.ack_secret.get_secret_value() == again.ack_secret.get_secret_value()
    assert local.ack_secret.get_secret_value() == (tmp_path / "ack-secret").read_text().strip()
    # A configured secret always wins.
    mine = ack_settings(NotifySettings(ack_secret="mine"), "kafka-1.example:9092", tmp_path)
    assert mine.ack_secret is not None and mine.ack_secret.get_secret_value() == "mine"

"""Every kind of Kafka client Pantau makes honours the KAFKA_* security settings: against the local
broker's SASL_PLAINTEXT listener, with the settings read from the environment as a service reads
them, kafka-python (admin, producer, reader), aiokafka (the ingest writer) and faust (a service's
app) all get through; with a wrong password they do not."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from kafka.errors import KafkaError
from pydantic import SecretStr

from pantau.kafka_local import EMBEDDED_SASL_PORT, LOCAL_SASL_PASSWORD, LOCAL_SASL_USER
from services.runtime.kafka_io import read_topic, safe_producer
from services.runtime.settings import KafkaConnection
from services.runtime.topics import admin_client

pytestmark = pytest.mark.integration


@pytest.fixture
def sasl(monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str) -> KafkaConnection:
    if kafka_bootstrap != "127.0.0.1:9092":
        pytest.fail("this test needs the local broker's SASL listener (unset KAFKA_BOOTSTRAP_SERVERS)")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{EMBEDDED_SASL_PORT}")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", LOCAL_SASL_USER)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", LOCAL_SASL_PASSWORD)
    return KafkaConnection()  # as every service builds it: from the environment


def test_kafka_python_clients_get_through_sasl(sasl: KafkaConnection) -> None:
    topic = f"sasl-test-{uuid.uuid4().hex[:8]}"
    from kafka.admin import NewTopic

    admin = admin_client(sasl)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
        producer = safe_producer(sasl)
        producer.send(topic, key=b"32.73", value=b"over SASL").get(timeout=30)
        producer.close()
        [rec] = read_topic(sasl, topic)
        assert (rec.key, rec.value) == (b"32.73", b"over SASL")
    finally:
        admin.delete_topics([topic])
        admin.close()


def test_the_ingest_writer_gets_through_sasl(sasl: KafkaConnection) -> None:
    """aiokafka, as the ingest service writes: the bulk import's path (KafkaWriter, acks=all)."""
    from kafka.admin import NewTopic

    from services.ingest.importer import write_events
    from tests.builders import an_indicator_event

    topic = f"sasl-test-{uuid.uuid4().hex[:8]}"
    admin = admin_client(sasl)
    admin.create_topics([NewTopic(topic, 1, 1)])
    try:
        events = [an_indicator_event(region_code="32.73"), an_indicator_event(region_code="31.71")]
        assert asyncio.run(write_events(events, kafka=sasl, topic=topic, timeout=20)) == 2
        assert sorted(r.key for r in read_topic(sasl, topic)) == [b"31.71", b"32.73"]
    finally:
        admin.delete_topics([topic])
        admin.close()


def test_a_faust_app_is_given_the_credentials(sasl: KafkaConnection) -> None:
    import faust

    app = faust.App("sasl-probe", **sasl.faust())
    creds = app.conf.broker_credentials
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.username, creds.password) == (LOCAL_SASL_USER, LOCAL_SASL_PASSWORD)
    assert [str(u) for u in app.conf.broker] == [f"kafka://127.0.0.1:{EMBEDDED_SASL_PORT}"]


def test_a_wrong_password_is_refused(sasl: KafkaConnection) -> None:
    wrong = sasl.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    with pytest.raises(KafkaError):
        admin_client(wrong, timeout_s=5).list_topics()

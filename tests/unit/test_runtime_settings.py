"""The shared settings: one set of KAFKA_* names with SASL and TLS, state under PANTAU_HOME."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.alerts.config import AlertsSettings
from services.ingest.config import IngestSettings
from services.runtime.settings import DEFAULT_BOOTSTRAP, KafkaConnection, connection
from services.scoring.config import ScoringSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
                 "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE", "PANTAU_HOME", "SCORING_DATA_DIR", "ALERTS_DATA_DIR",
                 "INGEST_PUBLISHERS_FILE", "INGEST_PORT", "INGEST_HOST"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_the_default_is_the_embedded_plaintext_broker() -> None:
    k = KafkaConnection()
    assert k.bootstrap_servers == "127.0.0.1:9092" == DEFAULT_BOOTSTRAP
    assert k.kafka_python() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert k.aiokafka() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert k.faust() == {"broker": "kafka://127.0.0.1:9092"}
    assert k.loopback


def test_every_service_reads_the_same_kafka_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0.example:9093,kafka-1.example:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "pantau")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    for settings in (IngestSettings(), ScoringSettings(), AlertsSettings()):
        k = settings.kafka
        assert settings.bootstrap_servers == "kafka-0.example:9093,kafka-1.example:9093"
        assert not k.loopback
        kw = k.kafka_python()
        assert (kw["security_protocol"], kw["sasl_mechanism"], kw["sasl_plain_username"], kw["sasl_plain_password"]) \
            == ("SASL_SSL", "SCRAM-SHA-512", "pantau", "s3cret")  # fmt: skip
        assert isinstance(kw["ssl_context"], ssl.SSLContext)
        assert k.aiokafka()["sasl_plain_password"] == "s3cret"
        creds = k.faust()["broker_credentials"]
        assert (creds.username, creds.password, creds.mechanism.value) == ("pantau", "s3cret", "SCRAM-SHA-512")
        assert k.faust()["broker"] == "kafka://kafka-0.example:9093;kafka://kafka-1.example:9093"
        assert "s3cret" not in repr(settings)  # the password is a secret: never in a log line


def test_sasl_without_credentials_is_refused_with_the_names_to_set() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaConnection(security_protocol="SASL_PLAINTEXT")


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        KafkaConnection(security_protocol="SSL", ssl_certfile=tmp_path / "client.pem")


def test_plain_tls_has_a_context_and_no_sasl() -> None:
    k = KafkaConnection(bootstrap_servers="broker:9093", security_protocol="SSL")
    assert "sasl_mechanism" not in k.kafka_python()
    assert isinstance(k.aiokafka()["ssl_context"], ssl.SSLContext)
    assert k.faust()["broker_credentials"].context is not None


def test_a_bootstrap_string_is_a_plaintext_connection() -> None:
    assert connection("10.0.0.5:9092") == KafkaConnection(bootstrap_servers="10.0.0.5:9092")
    given = KafkaConnection(bootstrap_servers="b:1")
    assert connection(given) is given


def test_service_state_lives_under_pantau_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "not-here"))  # $HOME is not PANTAU_HOME
    repo = Path(__file__).resolve().parents[2]
    assert ScoringSettings().data_dir == repo / ".pantau" / "scoring"
    assert ScoringSettings(home=tmp_path / "given").data_dir == tmp_path / "given" / "scoring"
    monkeypatch.setenv("PANTAU_HOME", str(tmp_path))
    assert ScoringSettings().data_dir == tmp_path / "scoring"
    assert AlertsSettings().data_dir == tmp_path / "alerts"
    assert IngestSettings().publishers_file == tmp_path / "ingest" / "publishers.yaml"
    monkeypatch.setenv("SCORING_DATA_DIR", str(tmp_path / "elsewhere"))
    assert ScoringSettings().data_dir == tmp_path / "elsewhere"  # a service's own setting still wins


def test_shared_names_keep_each_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORING_TOPIC_PREFIX", "t1.")
    monkeypatch.setenv("INGEST_PORT", "8181")
    assert ScoringSettings().topic("region-scores") == "t1.region-scores"
    assert AlertsSettings().topic("region-scores") == "region-scores"
    assert IngestSettings().port == 8181
    assert IngestSettings(port=9000).port == 9000
    assert (ScoringSettings().web_port, AlertsSettings().web_port, IngestSettings().web_port) == (6066, 6067, 8181)

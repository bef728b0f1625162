"""Prerequisite checks of the local broker manager: each failure tells the user what to fix."""

import os
import socket
import stat
from pathlib import Path

import pytest

from pantau.kafka_local import KafkaSetupError, LocalKafka, new_cluster_id


def _fake_tool(bindir: Path, name: str, script: str) -> None:
    path = bindir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def only_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", str(bindir))
    return bindir


def test_old_java_is_refused(tmp_path: Path, only_path: Path) -> None:
    _fake_tool(only_path, "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    with pytest.raises(KafkaSetupError, match=r"Java 17\+ is needed .* found Java 11"):
        LocalKafka(home=tmp_path).check_java()


def test_java_8_version_style_is_read(tmp_path: Path, only_path: Path) -> None:
    _fake_tool(only_path, "java", "echo 'java version \"1.8.0_202\"' >&2\n")
    with pytest.raises(KafkaSetupError, match="found Java 8"):
        LocalKafka(home=tmp_path).check_java()


def test_missing_java_is_named(tmp_path: Path, only_path: Path) -> None:
    with pytest.raises(KafkaSetupError, match="'java' is not on PATH"):
        LocalKafka(home=tmp_path).check_java()


def test_missing_maven_is_named(tmp_path: Path, only_path: Path) -> None:
    with pytest.raises(KafkaSetupError, match=r"Maven \('mvn'\) is needed"):
        LocalKafka(home=tmp_path).fetch()


def test_port_taken_by_another_process_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        lk = LocalKafka(home=tmp_path, port=port)
        with pytest.raises(KafkaSetupError, match=rf"port 127.0.0.1:{port} is taken by another process"):
            lk.up(timeout=5)


def test_stale_pid_file_is_not_a_running_broker(tmp_path: Path) -> None:
    lk = LocalKafka(home=tmp_path)
    tmp_path.mkdir(exist_ok=True)
    lk.pid_file.write_text(str(os.getpid()))  # a live process, but not our broker
    assert lk.pid() is None
    assert lk.down() is False
    assert not lk.pid_file.exists()


def test_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xfb.. encodes to "-" in base64url: the storage tool would read such an id as an option.
    import uuid

    draws = iter([uuid.UUID(bytes=b"\xfb" + bytes(15)), uuid.UUID(int=7)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(draws))
    cluster_id = new_cluster_id()
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22

"""Scoring settings: the time limits shared with ingest, and the worker's static member name."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from schemas.validation import DEFAULT_TIME_LIMITS, TimeLimits
from services.scoring.config import ScoringSettings


def test_the_time_limits_are_ingests_documented_ones() -> None:
    assert ScoringSettings().time_limits == DEFAULT_TIME_LIMITS
    assert TimeLimits(max_future=timedelta(minutes=5), max_age=timedelta(days=3650)) == DEFAULT_TIME_LIMITS
    assert ScoringSettings(max_future=timedelta(seconds=30)).time_limits.max_future == timedelta(seconds=30)


def test_a_worker_is_the_same_static_member_again_only_in_its_own_place(tmp_path: Path) -> None:
    one = ScoringSettings(app_id="pantau-scoring", web_port=6100, data_dir=tmp_path / "a")
    name = one.group_instance_id
    assert name is not None and name.startswith(f"pantau-scoring@{socket.gethostname()}:")
    # Restarted with the same address and state: the same member, which takes its partitions back.
    assert ScoringSettings(app_id="pantau-scoring", web_port=6100, data_dir=tmp_path / "a").group_instance_id == name
    # Another state directory or another web address (which faust checks against the assignment):
    # another member.
    assert ScoringSettings(app_id="pantau-scoring", web_port=6100, data_dir=tmp_path / "b").group_instance_id != name
    assert ScoringSettings(app_id="pantau-scoring", web_port=6101, data_dir=tmp_path / "a").group_instance_id != name
    assert ScoringSettings(instance_id="scoring-0").group_instance_id == "scoring-0"
    assert ScoringSettings(static_membership=False, instance_id="scoring-0").group_instance_id is None


def test_aiokafka_still_reads_the_instance_id_when_the_consumer_starts() -> None:
    # services.runtime.faust_seam.set_group_instance_id sets the attribute on a consumer faust has made and
    # not yet started; AIOKafkaConsumer.start() hands it to its GroupCoordinator.
    assert "_group_instance_id" in AIOKafkaConsumer.start.__code__.co_names
    assert "_group_instance_id" in AIOKafkaConsumer.__init__.__code__.co_names

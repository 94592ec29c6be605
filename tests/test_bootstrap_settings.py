"""The embedded PostgreSQL's settings are sized to the machine's memory, within bounds."""

from __future__ import annotations

from crm.bootstrap import postgres_settings


def test_an_eighth_of_memory_for_buffers_at_most_2_gb() -> None:
    assert postgres_settings(4096)["shared_buffers"] == "512MB"
    assert postgres_settings(24_000)["shared_buffers"] == "2048MB"
    assert postgres_settings(512)["shared_buffers"] == "128MB"


def test_planner_costs_for_data_in_memory() -> None:
    settings = postgres_settings(16_384)
    assert settings["effective_cache_size"] == "8192MB"
    assert settings["random_page_cost"] == "1.1"
    assert settings["jit"] == "off"
    assert postgres_settings(64_000)["maintenance_work_mem"] == "1024MB"

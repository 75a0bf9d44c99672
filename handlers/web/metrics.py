"""What the bot counts for Prometheus: updates, errors, answer latency, sends, the outbox backlog."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """The bot's metrics in a registry of their own (several apps in one process stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "sangkien_updates", "Updates received, by channel and kind", ["channel", "kind"], registry=self.registry
        )
        self.errors = Counter(
            "sangkien_update_errors", "Updates whose handling failed, by channel", ["channel"], registry=self.registry
        )
        self.refused = Counter(
            "sangkien_webhook_refused",
            "Webhook requests refused, by channel and reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sangkien_answer_seconds",
            "Time from receiving an update to having sent its answer, by channel",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sends = Counter(
            "sangkien_sends", "Messages sent, by channel and result", ["channel", "result"], registry=self.registry
        )
        self.backlog = Gauge("sangkien_outbox_backlog", "Outbox messages due and not sent", registry=self.registry)
        self.backlog_age = Gauge(
            "sangkien_outbox_oldest_seconds", "Seconds the oldest due outbox message has waited", registry=self.registry
        )

    def sent(self, channel: str, ok: bool) -> None:
        """Count one send."""
        self.sends.labels(channel, "ok" if ok else "failed").inc()

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)

"""What an operator watches, in Prometheus' text format at GET /metrics.

Each server process keeps its own figures (one registry per app, so that tests can build
several apps in one process); with several workers, scrape each worker on its own port.
Connected phones and message-queue reconnects are read when scraped; the rest is counted
where it happens: commands (commands.execute), group-commit batches (writer.py), the
alarm's fan-out (publish.py) and pushes (push.py).
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
FANOUT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def connections_per_site(socketio) -> dict[str, int]:
    """How many staff and responder connections each site has in this process."""
    counts: dict[str, int] = {}
    for name, members in socketio.server.manager.rooms.get("/", {}).items():
        if name and name.startswith("site:") and members:
            site = name.split(":")[1]
            counts[site] = counts.get(site, 0) + len(members)
    return counts


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "exitnow_commands",
            "Commands run, by command and outcome (accepted, repeated, rejected, failed)",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.batch_commands = Histogram(
            "exitnow_group_commit_commands",
            "Commands per group-commit transaction (one fsync each)",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.alarm_fanout = Histogram(
            "exitnow_alarm_fanout_seconds",
            "From the commit of incident.started until its frames were handed to an audience",
            ["audience"],
            buckets=FANOUT_BUCKETS,
            registry=self.registry,
        )
        self.pushes = Counter(
            "exitnow_pushes",
            "Web Push deliveries by outcome (delivered, expired, failed)",
            ["outcome"],
            registry=self.registry,
        )

    def watch_socketio(self, socketio) -> None:
        """Connected phones and message-queue reconnects, read from Socket.IO when scraped."""
        self.registry.register(_SocketIOCollector(socketio))

    def watch_disk(self, disk) -> None:
        """Free space and the disk reserve (server/store/disk.py), read when scraped."""
        self.registry.register(_DiskCollector(disk))

    def watch_store(self, store) -> None:
        """The store's engine, this node's role in it and the replication lag (as /readyz)."""
        self.registry.register(_StoreCollector(store))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _SocketIOCollector:
    def __init__(self, socketio):
        self.socketio = socketio

    def collect(self):
        phones = GaugeMetricFamily(
            "exitnow_connected_clients",
            "Staff and responder Socket.IO connections to this process, by site",
            labels=["site"],
        )
        for site, count in sorted(connections_per_site(self.socketio).items()):
            phones.add_metric([site], count)
        yield phones
        reconnects = CounterMetricFamily(
            "exitnow_message_queue_reconnects",
            "Times this process's message-queue listener subscribed again after losing it",
        )
        reconnects.add_metric([], getattr(self.socketio.server.manager, "reconnects", 0))
        yield reconnects


class _DiskCollector:
    def __init__(self, disk):
        self.disk = disk

    def collect(self):
        state = self.disk.read()
        free = GaugeMetricFamily(
            "exitnow_disk_free_bytes",
            "Bytes free for the server beside the database and in the public folder",
            labels=["folder"],
        )
        for folder, size in zip(("database", "public"), state.free_space(), strict=True):
            if size is not None:
                free.add_metric([folder], size)
        yield free
        yield GaugeMetricFamily(
            "exitnow_disk_min_free_bytes",
            "EXITNOW_MIN_FREE_MB: below it /readyz is red and the console warns",
            value=state.min_free,
        )
        reserve = self.disk.reserve
        yield GaugeMetricFamily(
            "exitnow_disk_reserve_bytes",
            "The disk reserve held beside the database for the alarm's commands (0: used)",
            value=reserve.size if state.reserve_held else 0,
        )
        used = CounterMetricFamily(
            "exitnow_disk_reserve_used",
            "Times this process gave the disk reserve back because the disk was full",
        )
        used.add_metric([], reserve.times_used)
        yield used


class _StoreCollector:
    def __init__(self, store):
        self.store = store

    def collect(self):
        described = self.store.describe()
        info = GaugeMetricFamily(
            "exitnow_store_info",
            "The store: its engine (sqlite, postgresql) and this node's role in it; always 1",
            labels=["engine", "role"],
        )
        info.add_metric([described["engine"], described["role"]], 1)
        yield info
        if described["replication_lag_ms"] is not None:
            yield GaugeMetricFamily(
                "exitnow_store_replication_lag_seconds",
                "PostgreSQL: the slowest standby's replay lag (primary) or this one's (standby)",
                value=described["replication_lag_ms"] / 1000,
            )


def is_allowed(address: str | None, allowed: str) -> bool:
    """Whether `address` is inside one of the comma-separated networks in `allowed`."""
    try:
        client = ip_address(address or "")
    except ValueError:
        return False
    networks = (ip_network(part.strip(), strict=False) for part in allowed.split(",") if part)
    return any(client in network for network in networks)

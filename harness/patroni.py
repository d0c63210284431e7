"""Three PostgreSQL nodes under Patroni with one etcd member, all Debian's packages, on
127.0.0.1: deploy/patroni.yml as it is (the cluster's rules, its users and pg_hba lines, with
one password and 127.0.0.1 for the networks), each node's addresses and folders its own, and
the app's role and database made as deploy/README.md says."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import requests
import yaml

from harness import REPO, PostgresServer, free_port

RECIPE = REPO / "deploy" / "patroni.yml"
PASSWORD = "exitnow-patroni-test"  # every user's, here: trust is not what the recipe does


def _stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to its process group, SIGKILL if it has not ended within `timeout`."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Etcd:
    """One etcd member (the recipe has three; one is enough for Patroni's lock here)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port, peer = free_port(), free_port()
        self.hosts = f"127.0.0.1:{self.port}"
        client, peer_url = f"http://{self.hosts}", f"http://127.0.0.1:{peer}"
        self.command = [
            "etcd", "--name", "e1", "--data-dir", str(folder / "etcd"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"e1={peer_url}",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> Etcd:
        with open(self.folder / "etcd.log", "wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://{self.hosts}/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("etcd did not start")

    def stop(self) -> None:
        if self.process:
            _stop(self.process)


class PatroniNode:
    """A database machine: Patroni (as the postgres system user, which runs PostgreSQL)."""

    def __init__(self, folder: Path, name: str, etcd_hosts: str):
        self.name, self.folder = name, folder / name
        self.port, self.api_port = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.config = folder / f"{name}.yml"
        recipe = yaml.safe_load(RECIPE.read_text())
        postgresql = recipe["postgresql"]
        settings = {
            **recipe,
            "name": name,
            "restapi": {**recipe["restapi"], "listen": f"127.0.0.1:{self.api_port}"},
            "etcd3": {"hosts": etcd_hosts},
            "postgresql": {
                **postgresql,
                "listen": f"127.0.0.1:{self.port}",
                "data_dir": str(self.folder / "data"),
                "pgpass": str(self.folder / "pgpass"),
                "bin_dir": str(PostgresServer.BIN),
                # The recipe's users and rules, with a password and this machine's network.
                "authentication": {
                    role: {**user, "password": PASSWORD}
                    for role, user in postgresql["authentication"].items()
                },
                "pg_hba": [
                    re.sub(r"10\.0\.\d\.0/24", "127.0.0.1/32", line)
                    for line in postgresql["pg_hba"]
                ],
                "parameters": {
                    **postgresql.get("parameters", {}),
                    "unix_socket_directories": str(self.folder),
                },
            },
        }
        settings["restapi"]["connect_address"] = settings["restapi"]["listen"]
        settings["postgresql"]["connect_address"] = settings["postgresql"]["listen"]
        self.folder.mkdir(mode=0o700)
        self.config.write_text(yaml.safe_dump(settings))
        for path in (self.folder, self.config):
            shutil.chown(path, "postgres", "postgres")
        self.process: subprocess.Popen | None = None

    def start(self) -> PatroniNode:
        with open(self.folder.parent / f"{self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                ["runuser", "-u", "postgres", "--", "patroni", str(self.config)],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self

    def _kill_postmaster(self) -> None:
        """SIGKILL to this node's postmaster, if one runs: the pid file of one killed before
        names a process that is gone, or by now another one's."""
        data = str(self.folder / "data")
        with contextlib.suppress(OSError, IndexError, ValueError):  # none, or gone meanwhile
            pid = int((self.folder / "data" / "postmaster.pid").read_text().splitlines()[0])
            if data in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to Patroni and to its postmaster, as the machine's power going: nothing
        releases the leader lock, which etcd keeps until its ttl has passed."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._kill_postmaster()

    def stop(self) -> None:
        """Patroni stops its PostgreSQL when it ends; a postmaster left behind is killed."""
        if self.process:
            _stop(self.process, timeout=40)
        self._kill_postmaster()


class PatroniCluster:
    """db1 bootstraps the cluster; db2 and db3 copy it and follow. `url` names all three, as
    the recipe's app nodes do, for whichever is the leader."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o711)  # the postgres user goes through it to the nodes' folders
        self.folder = folder
        self.etcd = Etcd(folder)
        self.nodes = [PatroniNode(folder, f"db{i}", self.etcd.hosts) for i in (1, 2, 3)]

    def url(self, database: str = "exitnow", user: str = "exitnow") -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"postgresql://{user}:{PASSWORD}@{hosts}/{database}?target_session_attrs=read-write"

    def start(self, timeout: float = 120) -> PatroniCluster:
        self.etcd.start()
        self.nodes[0].start()
        self.wait(lambda members: self._role(members, "leader"), timeout)
        for node in self.nodes[1:]:
            node.start()
        self.wait(self._replicated, timeout)
        # The app's role and database, as deploy/README.md's step (commits: each waits for the
        # synchronous standby).
        with psycopg.connect(self.url("postgres", "postgres"), autocommit=True) as db:
            db.execute(f"CREATE ROLE exitnow LOGIN PASSWORD '{PASSWORD}'")
            db.execute("GRANT pg_monitor TO exitnow")  # /readyz's replication lag
            db.execute("CREATE DATABASE exitnow OWNER exitnow")
        return self

    def members(self) -> list[dict]:
        """Patroni's view of the cluster, from the first node whose REST API answers."""
        for node in self.nodes:
            try:
                return requests.get(f"{node.api}/cluster", timeout=2).json()["members"]
            except (requests.RequestException, ValueError, KeyError):
                continue
        return []

    @staticmethod
    def _role(members: list[dict], role: str) -> str | None:
        named = [m["name"] for m in members if m.get("role") == role and m["state"] == "running"]
        return named[0] if named else None

    @classmethod
    def _replicated(cls, members: list[dict]) -> bool:
        """A leader, its synchronous standby and the third node following it."""
        running = [m for m in members if m["state"] == "running"]
        return (
            len(running) == 3
            and cls._role(members, "leader") is not None
            and cls._role(members, "sync_standby") is not None
        )

    def leader(self) -> str | None:
        return self._role(self.members(), "leader")

    def synchronous_standby(self) -> str | None:
        return self._role(self.members(), "sync_standby")

    def wait(self, done, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            members = self.members()
            if done(members):
                return members
            time.sleep(0.5)
        raise RuntimeError(f"the Patroni cluster did not get there: {self.members()}")

    def node(self, name: str) -> PatroniNode:
        return next(node for node in self.nodes if node.name == name)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.etcd.stop()

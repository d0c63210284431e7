"""The production shape on one machine, with one command: nginx with TLS in front of several
eventlet workers per node, each node with its own SQLite file and its own Redis message queue.

    python deploy/launch.py [--workers 2] [--nodes 1|2] [--demo] [--port 8443] [--run var/launch]

Everything listens on 127.0.0.1 only. In the run folder: a self-signed test certificate for
127.0.0.1 and localhost (tls/), per node its database, snapshot folder, worker logs and Redis
(node1/, node2/), and nginx's configuration with its private prefix (nginx/). It starts
Debian's redis-server and nginx and `python -m server` per worker, waits until every worker
is ready (/readyz) and nginx answers through TLS, prints the HTTPS address and every process
id, and on Ctrl-C or SIGTERM stops every process it started, by its own process ids.

The tests start and stop the same stack in their own process: `Stack(folder).start()`, then
`kill_worker(i)`, `restart_worker(i)`, `stop_redis()`, `start_redis()` and `stop()`.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
NOTICES = DEPLOY / "nginx"  # the snippets both nginx blocks include
NGINX_TEMPLATE = DEPLOY / "nginx" / "production.conf"
SITE_FILES = DEPLOY / "sites"
# Which sites each node owns, unless told otherwise: the demo shop and the outlet of sites/.
DEFAULT_SITES = (("demo",), ("outlet",))
HOST = "127.0.0.1"


def get(url: str, context: ssl.SSLContext | None = None, timeout: float = 2) -> int:
    """GET url directly (never through a proxy from the environment: everything is local);
    returns the status."""
    handlers = [urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)]
    with urllib.request.build_opener(*handlers).open(url, timeout=timeout) as answer:
        return answer.status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def debian_binary(name: str) -> str:
    """A program from Debian's packages: redis-server, nginx (nginx-light)."""
    found = shutil.which(name) or next(
        (path for path in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(path)),
        None,
    )
    if found is None:
        package = {"nginx": "nginx-light"}.get(name, name)
        raise RuntimeError(f"{name} is not installed: apt-get install -y {package}")
    return found


def wait_until(ready, what: str, timeout: float, process: subprocess.Popen | None = None):
    """Call `ready()` until it returns something true; fail when `process` exits or in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            answer = ready()
            if answer:
                return answer
        except (OSError, urllib.error.URLError, ssl.SSLError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s")


def end(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM to this one process (ours, by its id), then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


# --- the test certificate -----------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA, so a client can trust
    exactly it); kept in `folder` and made again only when missing or expiring."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    now = datetime.datetime.now(datetime.UTC)
    if certificate_path.exists() and key_path.exists():
        existing = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        if existing.not_valid_after_utc > now + datetime.timedelta(days=1):
            return certificate_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Exit Now local test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate_path, key_path


# --- the parts ----------------------------------------------------------------------------------


@dataclass
class Redis:
    """Debian's redis-server on 127.0.0.1, without persistence: one node's message queue."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [debian_binary("redis-server"), "--port", str(self.port), "--bind", HOST]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._pong, f"redis-server on port {self.port}", 10, self.process)

    def _pong(self) -> bool:
        with socket.create_connection((HOST, self.port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        end(self.process)


@dataclass
class Worker:
    """`python -m server` (eventlet) on its own port, with its node's settings."""

    node: Node = field(repr=False)
    number: int  # 1, 2, ... within its node
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.node.folder / f"worker-{self.number}.log"

    def spawn(self) -> None:
        """Start the process; `wait_ready` waits for it."""
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server"],
                cwd=REPO,
                env={**self.node.environment(), "PORT": str(self.port)},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        what = f"{self.node.name} worker {self.number} (log: {self.log})"
        wait_until(self._ready, what, timeout, self.process)

    def _ready(self) -> bool:
        """/readyz: more than /healthz (the process answers), it can write the log and the
        snapshots and hears the other workers (its message-queue listener is subscribed)."""
        return get(self.url + "/readyz", timeout=5) == 200

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        end(self.process, timeout=5)


@dataclass
class Node:
    """A shard: the SQLite file and snapshot folder of its sites, its workers and its Redis."""

    stack: Stack = field(repr=False)
    number: int
    sites: tuple[str, ...]
    workers: list[Worker] = field(default_factory=list)
    redis: Redis | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.public_dir.mkdir(parents=True, exist_ok=True)
        self.redis = Redis(self.folder / "redis")
        self.workers = [Worker(self, i + 1) for i in range(self.stack.worker_count)]

    @property
    def name(self) -> str:
        return f"node{self.number}"

    @property
    def folder(self) -> Path:
        return self.stack.folder / self.name

    @property
    def db_path(self) -> Path:
        return self.folder / "exitnow.db"

    @property
    def public_dir(self) -> Path:
        return self.folder / "public"

    @property
    def public_url(self) -> str:
        """The base of the enrollment links this node prints. Sharded, a link begins with its
        node, so that nginx remembers which node the phone belongs to (deploy/nginx/production.conf)."""
        sharded = len(self.stack.nodes) > 1
        return self.stack.url + (f"/{self.name}" if sharded else "")

    def environment(self) -> dict[str, str]:
        """The settings every worker (and every CLI command) of this node runs with."""
        return {
            **os.environ,
            "EXITNOW_DB": str(self.db_path),
            "EXITNOW_PUBLIC_DIR": str(self.public_dir),
            "EXITNOW_MESSAGE_QUEUE": self.redis.url,
            "EXITNOW_PUBLIC_URL": self.public_url,
            "EXITNOW_ASYNC_MODE": "eventlet",
            # nginx is the one proxy in front: the client's address is the last it forwards.
            "EXITNOW_TRUSTED_PROXIES": "1",
            "HOST": HOST,
        }

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """`flask --app server ARGS` on this node's database, as its operator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "server", *args],
            cwd=REPO,
            env={**self.environment(), "EXITNOW_ASYNC_MODE": "threading"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def seed(self) -> list[tuple[str, str, str]]:
        """Create each of this node's sites that is missing: `demo` as `--demo` of the server
        does, any other from deploy/sites/<site>.yaml. Returns (name, role, enrollment link)
        for every person of the new sites."""
        from server import commands, create_app, demo
        from server.basics.settings import load_settings
        from server.commands import site_config
        from server.rules.auth import command_line

        settings = load_settings(self.environment(), async_mode="threading")
        services = create_app(settings).extensions["exitnow"]
        links = []
        try:
            for site in self.sites:
                with services.store.reading() as db:
                    if db.execute("SELECT 1 FROM sites WHERE id = ?", [site]).fetchone():
                        continue
                if site == demo.SITE:
                    links += [(p["name"], p["role"], url) for p, url in demo.seed(services)]
                    continue
                operator = command_line(site)
                config = site_config.parse((SITE_FILES / f"{site}.yaml").read_text())
                commands.execute(services, operator, site, "import_site", {"config": config})
                with services.store.reading() as db:
                    people = db.execute(
                        "SELECT id, name, role FROM staff WHERE site = ? ORDER BY id", [site]
                    ).fetchall()
                for staff_id, name, role in people:
                    made = commands.execute(
                        services, operator, site, "create_enrollment_link", {"staff_id": staff_id}
                    )
                    links.append((name, role, settings.base_url + made["path"]))
        finally:
            services.store.close()
        return links


# --- nginx ----------------------------------------------------------------------------------------


def nodes_conf(nodes: list[Node]) -> str:
    """The nodes file deploy/nginx/production.conf includes: each node's workers (hashed on the sticky
    cookie), which node owns which site, the nodes a cookie may name, each node's snapshots."""
    lines = ["# Exit Now's nodes, written by deploy/launch.py (deploy/README.md explains it)."]
    for node in nodes:
        lines.append(f"upstream exitnow_{node.name} {{")
        lines.append("    hash $exitnow_sticky consistent;")
        lines += [f"    server {HOST}:{w.port} max_fails=1 fail_timeout=2s;" for w in node.workers]
        lines.append("}")
    lines += ["map $exitnow_request_site $exitnow_site_node {", '    "" "";', "    default node1;"]
    lines += [f"    {site} {node.name};" for node in nodes for site in node.sites]
    lines += ["}", "map $cookie_exitnow_node $exitnow_cookie_node {", '    default "";']
    lines += [f"    {node.name} {node.name};" for node in nodes]
    lines += ["}", "map $exitnow_node $exitnow_public_root {"]
    lines.append(f"    default {nodes[0].public_dir};")
    lines += [f"    {node.name} {node.public_dir};" for node in nodes]
    lines.append("}")
    return "\n".join(lines) + "\n"


def nginx_main_conf(prefix: Path, http: str, connections: int = 8192) -> str:
    """nginx's whole configuration with a private prefix: pid, logs and temporary files in
    `prefix`, `http` inside the http block."""
    # The run folder may be private to its owner: nginx's workers run as that owner.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temporary = "".join(
        f"{kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\nworker_rlimit_nofile {connections * 2};\n"
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"events {{ worker_connections {connections}; }}\n"
        f"http {{\naccess_log off;\n{temporary}{http}\n}}\n"
    )


def start_nginx_process(prefix: Path, http: str, ready, connections: int = 8192):
    """Debian's nginx in the foreground with that configuration; returns once `ready()`."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(nginx_main_conf(prefix, http, connections))
    binary = debian_binary("nginx")
    checked = subprocess.run(
        [binary, "-t", "-q", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refuses its configuration: {checked.stderr}")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(ready, f"nginx (log: {prefix}/error.log)", 10, process)
    except Exception:
        end(process)
        raise
    return process


# --- the whole stack --------------------------------------------------------------------------------


class Stack:
    """nginx (TLS) -> each node's workers -> its SQLite file, with its Redis between them."""

    def __init__(
        self,
        folder: Path,
        workers: int = 2,
        nodes: int = 1,
        port: int | None = None,
        sites: tuple[tuple[str, ...], ...] | None = None,
    ):
        sites = sites or DEFAULT_SITES
        if not 1 <= nodes <= len(sites):
            raise ValueError(f"nodes: 1 to {len(sites)} (one list of sites each)")
        self.folder = Path(folder).resolve()
        self.worker_count = workers
        self.port = port or free_port()
        self.url = f"https://{HOST}:{self.port}"
        self.nodes = [Node(self, i + 1, tuple(sites[i])) for i in range(nodes)]
        self.nginx: subprocess.Popen | None = None
        self.certificate, self.certificate_key = make_certificate(self.folder / "tls")

    # -- starting and stopping

    def start(self, demo: bool = False) -> list[tuple[str, str, str]]:
        """Start Redis, the workers and nginx; wait until each is ready. With `demo`, create
        each node's missing sites first; returns their people's enrollment links."""
        links = []
        try:
            for node in self.nodes:
                node.redis.start()
            if demo:
                for node in self.nodes:
                    links += node.seed()
            every = [worker for node in self.nodes for worker in node.workers]
            for worker in every:
                worker.spawn()
            for worker in every:
                worker.wait_ready()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return links

    def start_nginx(self) -> None:
        prefix = self.folder / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "nodes.conf").write_text(nodes_conf(self.nodes))
        http = (
            NGINX_TEMPLATE.read_text()
            .replace("@LISTEN@", f"{HOST}:{self.port} ssl")
            .replace("@CERTIFICATE@", str(self.certificate))
            .replace("@CERTIFICATE_KEY@", str(self.certificate_key))
            .replace("@NOTICES@", str(NOTICES))
            .replace("@NODES@", str(prefix / "nodes.conf"))
        )
        self.nginx = start_nginx_process(prefix, http, self._through_nginx)

    def _through_nginx(self) -> bool:
        return get(self.url + "/healthz", self.ssl_context()) == 200

    def stop(self) -> None:
        """Stop nginx, then every worker, then Redis: each by its own process id."""
        end(self.nginx)
        for node in self.nodes:
            for worker in node.workers:
                worker.stop()
        for node in self.nodes:
            node.redis.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- what the tests do to it

    def kill_worker(self, i: int, node: int = 0) -> None:
        """SIGKILL worker i (0-based) of a node: its phones lose their socket at once."""
        self.nodes[node].workers[i].kill()

    def restart_worker(self, i: int, node: int = 0) -> None:
        """Start worker i again on its port; returns when it is ready (/readyz)."""
        worker = self.nodes[node].workers[i]
        worker.stop()
        worker.spawn()
        worker.wait_ready()

    def stop_redis(self, node: int = 0) -> None:
        self.nodes[node].redis.stop()

    def start_redis(self, node: int = 0) -> None:
        self.nodes[node].redis.start()

    # -- what it is

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the test certificate, and only it."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def pids(self) -> dict[str, int]:
        """Every running process of the stack, by name."""
        found = {"nginx": self.nginx}
        for node in self.nodes:
            found[f"{node.name} redis"] = node.redis.process
            for worker in node.workers:
                found[f"{node.name} worker {worker.number} (port {worker.port})"] = worker.process
        return {name: p.pid for name, p in found.items() if p is not None and p.poll() is None}

    def exited(self) -> list[str]:
        """The processes the stack started that are no longer running."""
        found = {"nginx": self.nginx}
        for node in self.nodes:
            found[f"{node.name} redis"] = node.redis.process
            for worker in node.workers:
                found[f"{node.name} worker {worker.number} (log: {worker.log})"] = worker.process
        return [name for name, p in found.items() if p is not None and p.poll() is not None]


# --- the command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python deploy/launch.py",
        description="Run Exit Now's production shape on 127.0.0.1: nginx with TLS, workers, Redis.",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers per node (default 2)")
    parser.add_argument(
        "--nodes", type=int, default=1, choices=(1, 2), help="nodes (shards by site), default 1"
    )
    parser.add_argument("--demo", action="store_true", help="create the demo sites when missing")
    parser.add_argument("--port", type=int, default=8443, help="nginx's HTTPS port (8443)")
    parser.add_argument("--run", default="var/launch", help="the run folder (var/launch)")
    args = parser.parse_args(argv)

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    # Both, explicitly: a shell starts a background job with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    stack = Stack(Path(args.run), workers=args.workers, nodes=args.nodes, port=args.port)
    try:
        links = stack.start(demo=args.demo)
        if links:
            print("Enrollment links (single use):")
            for name, role, url in links:
                print(f"  {name:<16} {role:<13} {url}")
        for node in stack.nodes:
            print(f"{node.name}: sites {', '.join(node.sites)}; database {node.db_path}")
        print("Processes:")
        for name, pid in stack.pids().items():
            print(f"  {pid:>8}  {name}")
        print(f"Exit Now on {stack.url} (certificate: {stack.certificate}); Ctrl-C stops it.")
        sys.stdout.flush()
        reported: set[str] = set()
        while True:
            time.sleep(1)
            for name in set(stack.exited()) - reported:
                print(f"exited: {name}", flush=True)
                reported.add(name)
    except KeyboardInterrupt:
        pass
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C waits for the stop
            signal.signal(number, signal.SIG_IGN)
        stack.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # `python deploy/launch.py` from anywhere
    main()

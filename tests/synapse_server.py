"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests (one per test session).

Synapse lives in its own virtual environment (its pins clash with ours): `.ci/run` makes
`.synapse-venv` at the repository root; SAMEN_SYNAPSE_PYTHON can name another interpreter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
SERVER_NAME = "samen.test"
NO_LIMIT = {"per_second": 10000, "burst_count": 100000}


def synapse_python() -> Path | None:
    given = os.environ.get("SAMEN_SYNAPSE_PYTHON")
    candidates = [Path(given)] if given else []
    candidates.append(ROOT / ".synapse-venv" / "bin" / "python")
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(directory: Path, port: int, secret: str, rate_limited: bool) -> dict[str, object]:
    config: dict[str, object] = {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "trusted_key_servers": [],
        "federation_domain_whitelist": [],
        "suppress_key_server_warning": True,
        "report_stats": False,
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "enable_registration": False,
        "bcrypt_rounds": 4,
        "filter_timeline_limit": 5000,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
    }
    if not rate_limited:
        for name in (
            "rc_message",
            "rc_registration",
            "rc_room_creation",
            "rc_admin_redaction",
            "rc_joins_per_room",
            "rc_media_create",
            "rc_3pid_validation",
            "rc_invites_per_room",
            "rc_delayed_event_mgmt",
        ):
            config[name] = NO_LIMIT
        config["rc_login"] = {"address": NO_LIMIT, "account": NO_LIMIT, "failed_attempts": NO_LIMIT}
        config["rc_joins"] = {"local": NO_LIMIT, "remote": NO_LIMIT}
        config["rc_invites"] = {"per_room": NO_LIMIT, "per_user": NO_LIMIT, "per_issuer": NO_LIMIT}
    return config


@dataclass
class User:
    user_id: str
    access_token: str
    device_id: str
    password: str


class Synapse:
    def __init__(self, directory: Path, *, rate_limited: bool = False):
        python = synapse_python()
        if python is None:
            raise RuntimeError(
                "Synapse is not installed (run .ci/run, or set SAMEN_SYNAPSE_PYTHON)"
            )
        self.python = python
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "log.yaml").write_text(
            "version: 1\nformatters: {f: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}}\n"
            f"handlers: {{file: {{class: logging.FileHandler, formatter: f, filename: "
            f"'{directory / 'homeserver.log'}'}}}}\n"
            "root: {level: WARNING, handlers: [file]}\ndisable_existing_loggers: false\n"
        )
        config = _config(directory, self.port, self.secret, rate_limited)
        (directory / "homeserver.yaml").write_text(json.dumps(config, indent=1))
        subprocess.run(
            [
                str(python),
                "-c",
                "from signedjson.key import generate_signing_key, write_signing_keys;"
                f"f=open({str(directory / 'signing.key')!r}, 'w');"
                "write_signing_keys(f, [generate_signing_key('a')])",
            ],
            check=True,
        )

    def start(self, timeout: float = 60) -> None:
        log = (self.directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(self.python),
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.directory / "homeserver.yaml"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "stdout.log").read_text()[-3000:])
            try:
                with urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as response:
                    if response.status == 200:
                        return
            except (URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError("Synapse did not start in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def _json(
        self,
        method: str,
        path: str,
        body: dict[str, object] | None = None,
        token: str | None = None,
    ) -> dict[str, object]:
        request = Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        with urlopen(request, timeout=30) as response:
            result: dict[str, object] = json.loads(response.read() or b"{}")
            return result

    def register(self, localpart: str, *, admin: bool = False) -> User:
        nonce = str(self._json("GET", "/_synapse/admin/v1/register")["nonce"])
        password = secrets.token_hex(8)
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join(
                [
                    nonce.encode(),
                    localpart.encode(),
                    password.encode(),
                    b"admin" if admin else b"notadmin",
                ]
            )
        )
        answer = self._json(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return User(
            str(answer["user_id"]), str(answer["access_token"]), str(answer["device_id"]), password
        )

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

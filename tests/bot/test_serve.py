"""`revgate serve` as a real process: it answers Slack and /healthz, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import signed_post, slash_command_body

SECRET = "serve-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "revgate serve exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.loads(response.read()))
        except OSError:
            time.sleep(0.2)
    raise AssertionError("revgate serve never became healthy")


def test_serve_answers_slack_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    with FakeSlack() as fake:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "REVGATE_SLACK_API_URL": fake.base_url,
        }
        revgate = Path(sys.executable).with_name("revgate")
        process = subprocess.Popen(
            [str(revgate), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            health = _wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
            body = slash_command_body(command="/revgate", text="help", user_id="U1")
            status, reply, _ = signed_post(
                f"http://127.0.0.1:{port}/slack/events",
                secret=SECRET,
                body=body,
                content_type="application/x-www-form-urlencoded",
            )
            process.send_signal(signal.SIGTERM)
            exit_code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            assert process.stderr is not None
            stderr = process.stderr.read().decode()
            process.stderr.close()

    assert health == {"ok": True, "database": "ok"}
    assert status == 200
    assert b"/route-lead" in reply
    assert exit_code == 0, stderr
    assert "Traceback" not in stderr

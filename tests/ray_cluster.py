"""A real Ray cluster on this machine for the Ray backend's tests: a head with no CPUs (so
every run lands on a worker node) and worker nodes, each its own `ray start --block` process
group, so a test can kill a node whole (SIGKILL, as a machine that is switched off)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import ROOT, free_port

RAY = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


class LocalCluster:
    def __init__(self):
        # Short: Ray's unix sockets live under it (a path over 107 bytes fails).
        self.temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
        self.head = self._spawn(["--head", f"--port={self.port}", "--num-cpus=0",
                                 "--include-dashboard=false", "--disable-usage-stats",
                                 f"--temp-dir={self.temp}"], "head")
        self.nodes: list[subprocess.Popen] = []

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(Path(self.temp) / f"{name}-{time.time_ns()}.log", "w")
        return subprocess.Popen(RAY + ["start", "--block"] + args, cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def add_node(self, num_cpus: int = 1) -> subprocess.Popen:
        node = self._spawn([f"--address={self.address}", f"--num-cpus={num_cpus}"], "node")
        self.nodes.append(node)
        return node

    def wait_for_cpus(self, cpus: float, timeout: float = 120) -> None:
        import ray
        deadline = time.time() + timeout
        while ray.available_resources().get("CPU", 0) < cpus:
            if time.time() > deadline:
                raise AssertionError(f"the cluster never had {cpus} free CPUs: "
                                     f"{ray.available_resources()}")
            time.sleep(0.2)

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """The node's raylet and its workers die at once, as with a machine switched off."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def close(self) -> None:
        import ray
        if ray.is_initialized():
            ray.shutdown()
        for process in self.nodes + [self.head]:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.nodes + [self.head]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.temp, ignore_errors=True)


def wait_for_head(cluster: LocalCluster, timeout: float = 120) -> None:
    """Until the head's GCS port accepts connections (a driver may then connect)."""
    import socket
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", cluster.port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or cluster.head.poll() is not None:
                raise AssertionError("the Ray head did not start") from None
            time.sleep(0.3)

"""A classroom on one command: a Ray cluster for the trainings, N app replicas, HAProxy in front.

    python deploy/classroom.py --replicas 2 --port 8600
        [--ray-address HOST:PORT | --ray-cpus 2 | --no-ray] [--runs-dir DIR] [--bind 0.0.0.0]
    python deploy/classroom.py --replicas 3 --print-config     # the HAProxy config only

Learners open http://<this machine>:8600. What it starts (all stopped by Ctrl+C / SIGTERM):
  * unless --ray-address or --no-ray: a local Ray head (`ray start --head --block`) with
    --ray-cpus CPUs for trainings (default: half this machine's cores);
  * N `streamlit run playground/app.py` replicas on the ports after --port, sharing one runs
    directory, one cookie secret (a form posted to another replica passes its XSRF check) and
    $PLAYGROUND_RAY_ADDRESS (their trainings run on the cluster, so a replica that dies takes
    no training with it);
  * `haproxy -db -f <config>` from deploy/haproxy.cfg.in (Debian's `haproxy` package).

$PLAYGROUND_TEACHER_PASSWORD, when set, is passed on to the replicas (the Teacher page).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg.in"
APP = ROOT / "playground" / "app.py"
# Debian installs it in /usr/sbin, which a non-root PATH may lack.
HAPROXY = shutil.which("haproxy", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")
RAY = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


def haproxy_config(port: int, replica_ports: list[int], bind: str = "0.0.0.0") -> str:
    """The HAProxy config for replicas on 127.0.0.1:<replica_ports>, named r1, r2, …"""
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p} check cookie r{i}"
                        for i, p in enumerate(replica_ports, start=1))
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        BIND=bind, PORT=port, SERVERS=servers)


def wait_healthy(url: str, timeout: float = 120, process: Optional[subprocess.Popen] = None
                 ) -> None:
    """Until ``url``/_stcore/health answers 200 (RuntimeError after ``timeout``)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process ended (exit code {process.returncode})")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Classroom:
    """Everything ``main`` starts, as a context manager (tests and bench/bench_load.py use it).

    ``url`` is the proxy's address; ``replicas`` maps a replica's cookie value (r1, r2, …) to
    its process; ``ray_address`` is the cluster the replicas train on ('' = local backend).
    """

    def __init__(self, replicas: int = 2, port: int = 8600, ray_address: str = "",
                 ray_cpus: int = 0, no_ray: bool = False, runs_dir: str = "",
                 bind: str = "0.0.0.0", log_dir: str = ""):
        self.count, self.port, self.bind = replicas, port, bind
        self.ray_address, self.ray_cpus, self.no_ray = ray_address, ray_cpus, no_ray
        self.temp = tempfile.mkdtemp(prefix="classroom-")
        self.log_dir = Path(log_dir or self.temp)
        self.runs_dir = runs_dir or os.environ.get("PLAYGROUND_RUNS_DIR") or str(ROOT / "runs")
        self.url = f"http://127.0.0.1:{port}"
        self.replicas: dict[str, subprocess.Popen] = {}
        self.replica_ports: dict[str, int] = {}
        self.ray_head: Optional[subprocess.Popen] = None
        self.proxy: Optional[subprocess.Popen] = None
        self._logs = []

    def _log(self, name: str):
        handle = open(self.log_dir / f"{name}.log", "a")
        self._logs.append(handle)
        return handle

    def _start_ray(self) -> None:
        port = _free_port()
        cpus = self.ray_cpus or max(1, (os.cpu_count() or 2) // 2)
        # Ray's unix sockets live under its temp dir: keep the path short.
        self.ray_temp = tempfile.mkdtemp(prefix="rc", dir="/tmp")
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
        self.ray_head = subprocess.Popen(
            RAY + ["start", "--block", "--head", f"--port={port}", f"--num-cpus={cpus}",
                   "--include-dashboard=false", "--disable-usage-stats",
                   f"--temp-dir={self.ray_temp}"],
            cwd=ROOT, env=env, stdout=self._log("ray"), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.ray_address = f"127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.ray_head.poll() is not None:
                    raise RuntimeError("the Ray head did not start") from None
                time.sleep(0.3)

    def start_replica(self, name: str, port: int) -> subprocess.Popen:
        # Streamlit takes the cookie secret only from its config or the environment.
        env = dict(os.environ, PLAYGROUND_RUNS_DIR=self.runs_dir,
                   STREAMLIT_SERVER_COOKIE_SECRET=self.cookie_secret)
        env.pop("PLAYGROUND_RAY_ADDRESS", None)
        if self.ray_address:
            env["PLAYGROUND_RAY_ADDRESS"] = self.ray_address
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1",
             "--server.fileWatcherType=none",
             "--browser.gatherUsageStats=false"],
            cwd=ROOT, env=env, stdout=self._log(name), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.replicas[name], self.replica_ports[name] = process, port
        return process

    def __enter__(self) -> "Classroom":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def start(self) -> None:
        if HAPROXY is None:
            raise RuntimeError("haproxy is not installed (Debian: apt-get install haproxy)")
        Path(self.runs_dir).mkdir(parents=True, exist_ok=True)
        if not self.ray_address and not self.no_ray:
            self._start_ray()
        self.cookie_secret = os.environ.get("PLAYGROUND_COOKIE_SECRET") or \
            secrets.token_hex(32)
        for i in range(1, self.count + 1):
            self.start_replica(f"r{i}", self.port + i)
        config = Path(self.temp) / "haproxy.cfg"
        config.write_text(haproxy_config(self.port, list(self.replica_ports.values()),
                                         self.bind), encoding="utf-8")
        for name, process in self.replicas.items():
            wait_healthy(f"http://127.0.0.1:{self.replica_ports[name]}", process=process)
        self.proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)],
                                      stdout=self._log("haproxy"), stderr=subprocess.STDOUT,
                                      start_new_session=True)
        wait_healthy(self.url, timeout=60, process=self.proxy)

    @staticmethod
    def _end(process: Optional[subprocess.Popen], timeout: float = 20) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def kill_replica(self, name: str) -> None:
        """SIGKILL a replica's whole process group (a crashed or switched-off server)."""
        process = self.replicas[name]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def close(self) -> None:
        self._end(self.proxy)
        for process in self.replicas.values():
            self._end(process)
        self._end(self.ray_head, timeout=30)
        for handle in self._logs:
            handle.close()
        if self.ray_head is not None:
            shutil.rmtree(self.ray_temp, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8600,
                        help="the proxy's port; replicas take the next ones")
    parser.add_argument("--bind", default="0.0.0.0", help="the proxy's address")
    parser.add_argument("--ray-address", default="",
                        help="an existing Ray cluster (default: start a local head)")
    parser.add_argument("--ray-cpus", type=int, default=0,
                        help="CPUs of the local Ray head for trainings (default: half)")
    parser.add_argument("--no-ray", action="store_true",
                        help="train in each replica's own processes (the local backend)")
    parser.add_argument("--runs-dir", default="", help="the shared runs directory")
    parser.add_argument("--print-config", action="store_true")
    args = parser.parse_args()
    if args.print_config:
        print(haproxy_config(args.port, [args.port + i for i in range(1, args.replicas + 1)],
                             args.bind))
        return
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with Classroom(args.replicas, args.port, args.ray_address, args.ray_cpus, args.no_ray,
                   args.runs_dir, args.bind) as classroom:
        print(f"Classroom at http://{args.bind}:{args.port} — {args.replicas} replicas, "
              f"trainings {'on Ray at ' + classroom.ray_address if classroom.ray_address else 'in each replica'}, "  # noqa: E501
              f"runs in {classroom.runs_dir}, logs in {classroom.log_dir}. Ctrl+C stops it.",
              flush=True)
        try:
            while not stop:
                for name, process in classroom.replicas.items():
                    if process.poll() is not None:  # a crashed replica comes back
                        print(f"replica {name} ended; restarting it", flush=True)
                        classroom.start_replica(name, classroom.replica_ports[name])
                time.sleep(2)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

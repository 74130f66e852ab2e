"""Fixtures for the real-browser test: one JupyterLab server and one headless Chromium per module.

The server serves a temporary copy of ``notebooks/`` (autosave must never write outputs into the
repository), with its own workspaces, settings, config and runtime folders, a random token, and
``start_new_session=True`` so that teardown can end the server, its kernels and anything they
started, as one process group.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts" / "browser"
# Debian's Chromium; CONCURRENCY_LAB_CHROMIUM points elsewhere (e.g. /usr/bin/chromium-browser).
CHROMIUM = Path(os.environ.get("CONCURRENCY_LAB_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often give /dev/shm only 64 MB, too little for a tall page: use /tmp instead.
    "--disable-dev-shm-usage",
]
REQUIRE_ENV = "CONCURRENCY_LAB_REQUIRE_BROWSER"
SERVER_START_TIMEOUT_S = 60.0

# The news pop-up ("Would you like to get notified about official Jupyter news?") covers the
# bottom right of the page; these user settings turn it off.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail when the environment says the browser test is mandatory."""
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the browser test is mandatory here).", False)
    pytest.skip(f"{reason} (set {REQUIRE_ENV}=1 to make this a failure).")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium, or a skip (a failure when ``CONCURRENCY_LAB_REQUIRE_BROWSER=1``)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(
            f"No Chromium at {CHROMIUM}: install Debian's 'chromium' package "
            "to run the browser test"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("The 'playwright' Python package is not installed (pip install playwright)")
    return CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it is, its token, the folder it serves and its log."""

    url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen
    #: Processes of a kernel that outlived its shutdown (killed, then reported at teardown).
    leaks: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, *, timeout_s: float = 10.0) -> object:
        """Call the REST API with the token; return the decoded JSON (None when empty)."""
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT", "PATCH") else None,
        )
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def kernel_processes(self, kernel_id: str) -> list[psutil.Process]:
        """The kernel's process (found by its connection file) and everything it started."""
        out: list[psutil.Process] = []
        try:
            for p in psutil.Process(self.proc.pid).children(recursive=True):
                if any(f"kernel-{kernel_id}.json" in a for a in p.cmdline()):
                    out += [p, *p.children(recursive=True)]
        except psutil.Error:
            pass
        return out

    def shutdown_kernels_of(self, notebook: str) -> None:
        """Delete the sessions (and so the kernels) of ``notebook``, and check that the kernel
        and its children are gone 10 s later (stragglers are killed and recorded in ``leaks``).
        """
        try:
            sessions = self.api("GET", "/api/sessions")
        except (urllib.error.URLError, OSError):
            return  # the server is gone: teardown ends whatever is left
        for s in sessions:  # type: ignore[union-attr]
            if s.get("path") != notebook:
                continue
            procs = self.kernel_processes(s["kernel"]["id"]) if s.get("kernel") else []
            try:
                self.api("DELETE", f"/api/sessions/{s['id']}", timeout_s=30)
            except (urllib.error.URLError, OSError):
                pass
            _, alive = psutil.wait_procs(procs, timeout=10)
            for p in alive:
                try:
                    if p.status() == psutil.STATUS_ZOMBIE:
                        continue
                    self.leaks.append(f"{notebook}: pid {p.pid} {' '.join(p.cmdline())[:120]}")
                    p.kill()
                except psutil.Error:
                    pass


def _stop_server(proc: subprocess.Popen, server: LabServer | None) -> None:
    """Shut kernels down through the API, then end the server's whole process group."""
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    if server is not None and proc.poll() is None:
        try:
            for k in server.api("GET", "/api/kernels"):  # type: ignore[union-attr]
                server.api("DELETE", f"/api/kernels/{k['id']}", timeout_s=30)
        except (urllib.error.URLError, OSError):
            pass
        try:
            server.api("POST", "/api/shutdown")
        except (urllib.error.URLError, OSError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None and not _alive(descendants):
            break
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for p in descendants:  # kernels run in sessions of their own: end them by pid and group
            try:
                if os.getpgid(p.pid) == p.pid:
                    os.killpg(p.pid, sig)
                p.send_signal(sig)
            except (psutil.Error, ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            pass
        psutil.wait_procs(descendants, timeout=wait_s)
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=5)
    leftovers = [p.pid for p in descendants if _alive([p])]
    assert not leftovers, f"processes of the JupyterLab server outlived it: {leftovers}"
    leaks = server.leaks if server is not None else []
    assert not leaks, "kernel processes outlived their kernel's shutdown:\n" + "\n".join(leaks)


def _alive(procs: list[psutil.Process]) -> bool:
    out = False
    for p in procs:
        try:
            out = out or (p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            pass
    return out


@pytest.fixture(scope="module")
def lab_server(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """JupyterLab on 127.0.0.1 with a token, serving a temporary copy of the notebooks."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    root.mkdir()
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        shutil.copy2(nb, root / nb.name)
    if (NOTEBOOKS / "solutions").is_dir():
        shutil.copytree(
            NOTEBOOKS / "solutions",
            root / "solutions",
            ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"),
        )
    settings = base / "settings"
    for rel, value in USER_SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    for d in ("workspaces", "config", "runtime"):
        (base / d).mkdir()
    token = secrets.token_hex(24)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        f"--LabApp.user_settings_dir={settings}",
        # window.jupyterapp lets the test read the notebook model the page shows (an error
        # output renders with the same mime type as a stderr warning in the DOM).
        "--LabApp.expose_app_in_browser=True",
        # A safety net if pytest itself is killed: idle kernels are culled, then the server
        # shuts itself down once nothing is running.
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
        "--ServerApp.shutdown_no_activity_timeout=900",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    env.pop("MPLBACKEND", None)  # the notes say a forced Agg backend breaks plot cells
    log = base / "server.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log, proc)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {proc.returncode} while starting:\n"
                    + server.log_tail()
                )
            try:
                server.api("GET", "/api/status", timeout_s=2)
                break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "JupyterLab did not answer /api/status within "
                    f"{SERVER_START_TIMEOUT_S:.0f} s:\n" + server.log_tail()
                )
            time.sleep(0.25)
    except BaseException:
        _stop_server(proc, None)
        raise
    try:
        yield server
    finally:
        _stop_server(proc, server)


@pytest.fixture(scope="module")
def browser(chromium_path: Path):
    """One headless Chromium (Debian's) for the module, driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def browser_context(browser, lab_server):
    """One browser context for the module: its pages share the HTTP cache (JupyterLab's
    scripts load once), each notebook still gets its own page.

    It depends on ``lab_server`` so that its pages close before the server stops (an open
    page could otherwise ask for a new kernel during the shutdown).
    """
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

"""schemathesis against the running server: every operation of /api/openapi.json,
property-based (positive and negative data, stateful links), every check.

Bounded: at most MAX_EXAMPLES cases per operation and phase, a fixed seed
(so CI runs the same cases; set REALTIME_SCHEMATHESIS_SEED to explore).
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from support import Client, ServerProcess, env_for, timeout
from support_api import KEY

MAX_EXAMPLES = 12
OPERATIONS = 6      # schemathesis leaves out the description's own path


def _schemathesis():
    here = os.path.join(os.path.dirname(os.path.realpath(sys.executable)), "schemathesis")
    return shutil.which("schemathesis") or (here if os.path.exists(here) else None)


@pytest.mark.skipif(_schemathesis() is None, reason="schemathesis is not installed")
def test_schemathesis_finds_no_server_error_and_no_schema_violation(room):
    """Every operation, every check: no 5xx, no answer outside the schema."""
    srv = ServerProcess(["--api-key", KEY, "--api-rate", "0", "--store", "memory://"]).start()
    member = Client(srv.url, "alice")       # someone to list and to disconnect
    member.call("join", {"room": room})
    workdir = tempfile.mkdtemp(prefix="realtime-schemathesis-")
    try:
        cmd = [_schemathesis(), "run", srv.url + "/api/openapi.json",
               "-H", "Authorization: Bearer " + KEY, "--checks", "all",
               "--max-examples", str(MAX_EXAMPLES),
               "--seed", os.environ.get("REALTIME_SCHEMATHESIS_SEED", "20261202"),
               "--request-timeout", str(timeout(5)), "--workers", "1"]
        run = subprocess.run(cmd, cwd=workdir, env=env_for(), capture_output=True,
                             text=True, timeout=timeout(60))
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-6000:]
        assert "Tested: %d" % OPERATIONS in out, out[-3000:]
        assert "No issues found" in out, out[-3000:]
        assert "Traceback" not in srv.log()
    finally:
        member.disconnect()
        srv.kill()
        shutil.rmtree(workdir, ignore_errors=True)

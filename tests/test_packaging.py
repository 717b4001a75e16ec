"""The built wheel: imports work from it as from the editable install, and it puts no generic
top-level module (flows, connectors) into site-packages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_namespaces_flows_and_connectors_and_imports_from_the_wheel(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
                            str(REPO)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("tendon_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("tendon_pipeline-")}
    assert tops == {"tendon_pipeline"}, tops
    for needed in ("tendon_pipeline/flows/pipeline.py", "tendon_pipeline/connectors/notifiers/base.py",
                   "tendon_pipeline/connectors/sources/base.py",
                   "tendon_pipeline/warehouse/migrations/0001_initial.sql"):
        assert needed in names
    assert any(n.startswith("tendon_pipeline/report/templates/") for n in names)
    assert "tendon_pipeline/web/templates/runner.html.j2" in names  # tendon serve's pages

    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    probe = ("import tendon_pipeline, tendon_pipeline.flows.pipeline, tendon_pipeline.cli\n"
             "from tendon_pipeline.warehouse.store import open_warehouse\n"
             "with open_warehouse(':memory:') as wh:\n"
             "    print(tendon_pipeline.__file__, wh.schema_version())\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(target)})
    assert run.returncode == 0, run.stderr
    module_file, version = run.stdout.split()
    assert module_file.startswith(str(target)) and int(version) >= 4

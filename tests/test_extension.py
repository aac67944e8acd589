"""Loading the extension is instant: heavy libraries wait until a magic runs."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
ip.run_line_magic("load_ext", "workbench")
assert ip.find_line_magic("llm_eval") and ip.find_line_magic("llm_runs")
heavy = sorted(m for m in ("torch", "transformers", "pandas", "plotly", "datasets") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_load_ext_registers_magics_without_importing_heavy_libraries():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "none"

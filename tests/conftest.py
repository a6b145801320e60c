"""Settings every test runs under.

On-demand synthesis (lowbit.rtl.results) is off, so that no test waits on yosys for a design
point the committed synthesis data lacks; the test that covers it turns it back on for a tiny
design. The synthesis cache is a fresh folder, so results a user synthesized into their own
cache cannot change what a test sees. Set here, at import, so the CLI subprocesses the tests
start inherit both.
"""
import atexit
import os
import shutil
import tempfile

os.environ["LOWBIT_SYNTH_ON_DEMAND"] = "0"
os.environ["LOWBIT_SYNTH_CACHE_DIR"] = tempfile.mkdtemp(prefix="lowbit-test-synth-cache-")
atexit.register(shutil.rmtree, os.environ["LOWBIT_SYNTH_CACHE_DIR"], ignore_errors=True)

"""A Moodle 4.3 or 4.5 web-service emulator: an in-memory site speaking the REST protocol, for tests and the demo.

``Emulator.handle`` answers in-process, ``serve`` on loopback; tests/contract replays real sites' recorded calls
(72 and 36 report builder ones per version). ``Emulator(moodle=…)`` chooses the version (versions.py).
"""

from moodle_sync.emulator.emulator import Emulator
from moodle_sync.emulator.faults import Fault, SimulatedCrash
from moodle_sync.emulator.server import ServerHandle, run_server, serve

__all__ = ["Emulator", "Fault", "ServerHandle", "SimulatedCrash", "run_server", "serve"]

"""The simulated line (cloud emulator + simulated devices) behind the demo, ``--simulate``, tests and benchmarks."""

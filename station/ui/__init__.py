"""The operator GUI (PySide6): a view of the headless Line; the only package that imports Qt.

Start it with ``station.ui.app.run_gui(line)``; the demo (``particle-station --demo``) does that with simulated
devices. Work never runs on the GUI thread: workflow events arrive through ``bridge.LineBridge`` as queued signals.
"""

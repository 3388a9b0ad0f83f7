"""The provisioning line: profile, per-unit workflow, records, tray import, GUI and the command line."""

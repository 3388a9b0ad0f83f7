"""Tray and SIM lists: reading them, bulk import into the product with a per-line report, lot reconciliation."""

"""The product's side in the cloud: its released firmware, device groups and quarantine."""

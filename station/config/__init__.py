"""The station profile (TOML) and what it names: steps, cloud credentials, Wi-Fi, slots, logging, lots."""

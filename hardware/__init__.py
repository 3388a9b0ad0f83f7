"""Everything that touches a Particle device or a device label: platforms, identifiers, firmware, USB, serial."""

"""Client for the Particle Cloud API, and a faithful local emulator of it."""

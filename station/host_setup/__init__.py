"""Setting up the station's computer: the Linux udev rules that let it reach Particle devices without root."""

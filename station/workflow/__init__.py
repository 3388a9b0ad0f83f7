"""A unit's provisioning steps, the runner that resumes a unit where it stopped, and the multi-slot line."""

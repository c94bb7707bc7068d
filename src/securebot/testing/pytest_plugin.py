"""pytest plugin shipped to plugin authors (fixtures arrive with the emulator)."""

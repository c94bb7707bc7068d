"""First-party plugins. Each imports only securebot's public faces, never another plugin."""

"""First-party plugin: the CPU and CUDA inference backends (see swaptalk_plugin.toml)."""

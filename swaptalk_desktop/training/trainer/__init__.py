"""The generic training loop (``loop.Trainer``) and what it needs: settings, devices,
distributed helpers, checkpoints, logs. Import the submodules directly; this package imports
nothing so the stage recipes can use its helpers without a cycle."""

"""Training, adaptation and export of the SwapTalk networks (the only package that uses torch).

Importing this package itself does not import torch, so the CLI can name configurations
(``training.configs``) and fail with a clear message when the training extras are missing.
Subpackages: ``configs`` (sizes), ``archs`` (pure nn.Modules), ``losses``, ``checkpoint_io``
(safetensors checkpoints), ``export`` (ONNX stage graphs + manifest + parity check).
"""

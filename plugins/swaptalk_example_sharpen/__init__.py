"""Example SwapTalk Desktop plugin: a frame processor that sharpens the generated face crop.

Only ``swaptalk_plugin.toml`` is read when plugins are listed; ``sharpen`` is imported the first
time an edit uses the processor. See docs/plugins.md.
"""

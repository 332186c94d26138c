# Makes models/ the package swaptalk_desktop.models (setup.py), so that an installed app finds
# its shipped model sets through importlib.resources (inference/registry.py:builtin_model_dir).

"""Files the app ships: icons, the editor's style sheet, the demo's recipe (no code).

This folder is installed as the package ``swaptalk_desktop.resources`` (see
``[tool.setuptools.package-dir]`` in pyproject.toml) and read only through
``swaptalk_desktop.core.resources``, i.e. ``importlib.resources``: the same in a checkout's
editable install, an installed wheel and the PyInstaller bundle.
"""

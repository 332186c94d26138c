"""Installs two top-level folders as subpackages: ``resources/`` as ``swaptalk_desktop.resources``
and ``models/`` as ``swaptalk_desktop.models``, so that an installed app reads its icons, style
sheet, demo recipe and shipped model sets through ``importlib.resources`` and never from a
checkout. Everything else is configured in pyproject.toml.

pyproject.toml cannot say this alone: its ``packages.find`` (kept there, the plugins use it too)
only finds packages whose folders nest like their names, and an explicit ``packages`` list
cannot be combined with it. So the two mapped packages are added after pyproject.toml is read;
wheels (``pip wheel .``), editable installs (``pip install -e .``) and sdists all see them.
"""

from setuptools import setup
from setuptools.dist import Distribution

MAPPED_PACKAGES = {
    "swaptalk_desktop.resources": "resources",
    "swaptalk_desktop.models": "models",
}
PACKAGE_DATA = {
    "swaptalk_desktop.resources": ["icons/*.svg", "icons/*.png", "styles/*.qss", "demo/*.json"],
    # manifests, model cards, ONNX graphs and the PyTorch weights that per-actor adaptation
    # starts from, one folder per model set
    "swaptalk_desktop.models": ["*.json", "*/*.json", "*/*.md", "*/*.onnx",
                                "*/*.safetensors"],
}


class _Distribution(Distribution):
    def parse_config_files(self, *args, **kwargs):
        super().parse_config_files(*args, **kwargs)
        self.packages = [*(self.packages or []),
                         *(p for p in MAPPED_PACKAGES if p not in (self.packages or []))]
        self.package_dir = {**(self.package_dir or {}), **MAPPED_PACKAGES}
        package_data = dict(self.package_data or {})
        for package, patterns in PACKAGE_DATA.items():
            package_data[package] = [*package_data.get(package, []), *patterns]
        self.package_data = package_data


setup(distclass=_Distribution)

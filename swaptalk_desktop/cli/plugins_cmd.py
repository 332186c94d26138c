"""``swaptalk plugins list``: installed plugins, what each contributes, and why one is off."""

from __future__ import annotations

import json

from ..core.plugin_manifest import KINDS


def add_plugins_parser(sub) -> None:
    p = sub.add_parser("plugins", help="list installed plugins and their contributions",
                       description="List the plugins found through the "
                       "'swaptalk_desktop.plugins' entry points: each one's version, state "
                       "(enabled, or disabled with the reason), and the inference backends, "
                       "model set sources and frame processors it contributes. Listing reads "
                       "the plugins' manifests only; no plugin code runs. Turn plugins off "
                       "with SWAPTALK_DISABLE_PLUGINS=name[,name...] (or 'all').")
    p.add_argument("action", choices=["list"])
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(run=run_plugins)


def run_plugins(args, display) -> int:
    from ..core.plugins import plugin_host
    plugins = plugin_host().plugins()
    if args.json:
        print(json.dumps([p.as_dict() for p in plugins], indent=2))
        return 0
    if not plugins:
        print("no plugins installed")
        return 0
    for plugin in plugins:
        version = f" {plugin.version}" if plugin.version else ""
        title = f" — {plugin.display_name}" if plugin.display_name != plugin.name else ""
        print(f"{plugin.name}{version}{title}: {plugin.status}")
        for c in plugin.contributions:
            print(f"    {KINDS[c.kind]:<17} {c.id} ({c.title}, {c.version})")
        for note in plugin.notes:
            print(f"    note: {note}")
    broken = sum(1 for p in plugins if not p.enabled and not p.by_user)
    if broken:
        display.warning(f"{broken} plugin{'s' if broken > 1 else ''} disabled because "
                        f"{'they are' if broken > 1 else 'it is'} broken; the rest of "
                        "SwapTalk Desktop works without "
                        f"{'them' if broken > 1 else 'it'}")
    return 0

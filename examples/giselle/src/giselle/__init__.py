"""Giselle: the GiselleBot feature set assembled from securebot's first-party plugins."""

from giselle.assembly import GiselleAssembly, load_giselle_config

__all__ = ["GiselleAssembly", "load_giselle_config"]

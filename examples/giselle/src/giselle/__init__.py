"""Giselle: a distribution of securebot assembled from first-party plugins."""

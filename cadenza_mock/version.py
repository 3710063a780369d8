"""The package version, apart from the package face so lower layers can read it cheaply."""

__version__ = "0.1.0"

"""The version of matcalc, in one place: ``pyproject.toml`` reads it from here
(a dynamic version), ``matcalc.__version__`` and ``matcalc --version`` report it."""

__version__ = "0.1.0"

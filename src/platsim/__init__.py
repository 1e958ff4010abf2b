"""platsim: simulate Bayesian adaptive platform trials in oncology."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("platsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

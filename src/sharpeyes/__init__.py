"""Sharp Eyes: public video network platform."""

__version__ = "0.1.0"

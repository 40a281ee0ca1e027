"""Integration tests against real external components."""

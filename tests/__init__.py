"""Sharp Eyes test suite."""

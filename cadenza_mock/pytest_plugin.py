"""pytest plugin: the mock as a fixture (registered through the `pytest11` entry point)."""

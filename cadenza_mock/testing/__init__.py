"""What a test holds: the handle API shared by the in-process and remote mocks.

The pytest plugin itself stays at `cadenza_mock.pytest_plugin`, the name its entry point
and `-p` have always used.
"""

"""The contract tier: what the emulated API promises, as plain data.

The operation table, request and wire shapes, the error catalogue and the records. Every
other tier reads these; they import no aiohttp and hold no state.
"""

"""The documents derived from the contract: OpenAPI (REST) and AsyncAPI (WebSocket).

Built from the same rows the server runs on, so a document cannot describe an operation
the server does not serve.
"""

"""Ways to run the server: the command line, the foreground `serve`, the threaded
`MockServer`, and what they share (state file, TLS)."""

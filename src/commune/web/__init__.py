"""The web application: server-rendered pages over the same library calls as the CLI."""

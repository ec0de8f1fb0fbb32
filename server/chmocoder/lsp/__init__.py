"""The only package that imports pygls and lsprotocol: handlers that convert and delegate."""

"""Model access: runtimes, the model daemon and its protocol, the scheduler, the caches.

Nothing here knows about source code or LSP: it turns prompts into tokens.
"""

"""Cryptography at the edge: argon2id secret hashing and JWT signing (the ports are in
``services/clients.py`` and ``services/tokens.py``)."""

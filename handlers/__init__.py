"""Handlers decide replies per audience; they never import a channel."""

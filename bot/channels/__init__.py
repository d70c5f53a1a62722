"""Channels: each translates between one wire format and Incoming/Outgoing."""

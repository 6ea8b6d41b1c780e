"""Roster files from the regional hubs: read, validate, and resolve counties."""

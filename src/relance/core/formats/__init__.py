"""Parsers of incoming files into plain dataclasses. Problems are returned as data."""

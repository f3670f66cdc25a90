"""The use cases: one plain function per command and per event.

Each is given a ``Context`` (unit of work, clock, county configuration and the
outside services it needs) and a small command; none imports Flask.
"""

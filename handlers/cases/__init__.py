"""A case's life: filing, handling, the resident's answers, clocks, timeline, photos."""

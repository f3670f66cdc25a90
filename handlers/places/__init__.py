"""Communities and what residents read about them."""

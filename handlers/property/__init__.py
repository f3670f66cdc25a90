"""Property companies, the nine prohibitions and their ladder."""

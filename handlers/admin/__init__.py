"""What a county's administrator changes without a developer: communities,
staff, the responsibility list's versions; each change recorded."""

"""Domain model: aggregates, events and rules of a social-aid case."""

"""Rules: one module per rule, registered in an explicit list."""

"""Pure business rules. Nothing in this package imports Django or a relance app."""

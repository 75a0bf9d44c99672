"""Storage: the only package that touches the database (tables, engine, queries, migrations)."""

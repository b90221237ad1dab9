"""Teams and API keys: the SQL tables, the keyed hash and the store."""

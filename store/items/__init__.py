"""Items <-> domain objects: the table's keys, attribute typing, and one codec module per entity."""

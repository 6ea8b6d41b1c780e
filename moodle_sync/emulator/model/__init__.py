"""The emulated site's data: tables of records with indexes and an undo journal for transactions."""

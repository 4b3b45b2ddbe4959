"""The administrators' pages: staff accounts, the audit log and the retention period
(`routes`); retention itself, which `python -m console retention` runs daily (`retention`)."""

"""The Zalo channel: the Zalo Bot API client, its updates translated for the core, replies as plain text."""

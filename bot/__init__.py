"""Sáng kiến bot: the channel-free core, the composition root and the CLI."""

"""Channel adapters: translate a channel's updates into core events and core replies back."""

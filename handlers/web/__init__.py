"""The web app of `sangkien run --webhook`: Telegram's and Zalo's webhooks, health, metrics, pictures."""
